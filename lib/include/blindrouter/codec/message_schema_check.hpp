#pragma once
// Serializer-independent checks of a decoded message against the schema table.
#include <cstdint>
#include <optional>
#include <string>

#include "blindrouter/wamp/message.hpp"

namespace blindrouter::codec {

// The maximum WAMP id (2^53), WAMP spec "IDs".
inline constexpr std::uint64_t max_wamp_id = 9007199254740992ULL;

// Checks one routing field's value against its kind; returns the protocol
// violation reason, phrased like Crossbar's ("'Request' in PUBLISH: invalid type for ID").
std::optional<std::string> check_field(const wamp::MessageSchema& schema, const wamp::FieldSpec& field,
                                       const wamp::Value& value);

// How many routing fields and trailing argument elements a message of `element_count`
// elements (type code excluded) has; nullopt when the count is wrong for the type.
struct ElementLayout {
    std::size_t routing_fields;
    std::size_t argument_elements;
};
std::optional<ElementLayout> layout_for(const wamp::MessageSchema& schema, std::size_t element_count);

}  // namespace blindrouter::codec
