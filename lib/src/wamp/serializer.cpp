#include "blindrouter/wamp/serializer.hpp"

namespace blindrouter::wamp {
namespace {
struct SerializerNames {
    Serializer serializer;
    std::string_view name;
    std::string_view subprotocol;
};
constexpr std::array<SerializerNames, serializer_count> names{{
    {Serializer::json, "json", "wamp.2.json"},
    {Serializer::msgpack, "msgpack", "wamp.2.msgpack"},
    {Serializer::cbor, "cbor", "wamp.2.cbor"},
}};
}  // namespace

std::string_view serializer_name(Serializer s) { return names[static_cast<std::size_t>(s)].name; }
std::string_view websocket_subprotocol(Serializer s) { return names[static_cast<std::size_t>(s)].subprotocol; }

std::optional<Serializer> serializer_from_subprotocol(std::string_view subprotocol) {
    for (const auto& n : names)
        if (n.subprotocol == subprotocol) return n.serializer;
    return std::nullopt;
}

std::optional<Serializer> serializer_from_name(std::string_view name) {
    for (const auto& n : names)
        if (n.name == name) return n.serializer;
    return std::nullopt;
}

}  // namespace blindrouter::wamp
