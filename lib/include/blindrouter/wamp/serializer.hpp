#pragma once
#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace blindrouter::wamp {

enum class Serializer : unsigned char { json = 0, msgpack = 1, cbor = 2 };
inline constexpr std::size_t serializer_count = 3;

// The name used in config files ("serializers": [...]) and in enc_serializer.
std::string_view serializer_name(Serializer s);
// The WebSocket subprotocol, e.g. "wamp.2.json".
std::string_view websocket_subprotocol(Serializer s);
std::optional<Serializer> serializer_from_subprotocol(std::string_view subprotocol);
std::optional<Serializer> serializer_from_name(std::string_view name);

}  // namespace blindrouter::wamp
