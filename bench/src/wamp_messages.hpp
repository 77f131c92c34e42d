#pragma once
// The WAMP messages the load client sends and what it reads back. Control messages
// (HELLO, SUBSCRIBE, WELCOME, ...) are built and decoded with rapidjson / msgpack-cxx;
// on the delivery path a received message is never decoded: the client finds its own
// payload header (sequence, send time) at a known place and reads 24 bytes.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "blindrouter/wamp/message.hpp"
#include "wire.hpp"

namespace bench::wamp {

// The message codes are the router's own table (lib/include/blindrouter/wamp/message.hpp).
using blindrouter::wamp::MessageType;

// The first bytes of every payload the bench sends; the rest is random. 24 bytes, a
// multiple of 3, so that in JSON base64(header + body) = base64(header) + base64(body)
// and only 32 characters change from one message to the next.
struct PayloadHeader {
    std::uint64_t sequence = 0;
    std::int64_t sent_ns = 0;  // steady clock of the load client
    std::uint32_t stream = 0;  // which phase or caller sent it
    std::uint32_t magic = 0;
};
inline constexpr std::size_t payload_header_size = 24;
inline constexpr std::uint32_t payload_magic = 0x484E4342;  // "BCNH"

// Transparent: the binary element in place of Arguments (the legacy encrypted form,
// `enc_algo` in the options). Spec: WAMP Payload PassThru Mode, `ppt_*` options and
// Arguments = [binary] (/work/shared/E2E.md §1). List: Arguments = [binary] with the
// legacy options, for a peer router that accepts only a list there.
enum class PayloadForm { transparent, spec, list };
// "enc" or "ppt" (the names of the two forms in scenario ids), "list".
std::string_view form_name(PayloadForm form);

// The random part of a payload, in raw and in base64 form.
struct PayloadBody {
    explicit PayloadBody(std::size_t payload_size);
    std::size_t payload_size;
    std::string raw;
    std::string base64;
};

// The leading fields of a small message: its type, then its top-level integers and
// strings in order (enough for WELCOME, ABORT, SUBSCRIBED, ERROR, INVOCATION ...).
struct Decoded {
    MessageType type{};
    std::vector<std::int64_t> integers;
    std::vector<std::string> strings;
};
// Nullopt (and `error`) when the bytes are not a WAMP message in that serializer.
std::optional<Decoded> decode(Serializer s, std::string_view message, std::string* error);
// The message type from the first bytes only; MessageType{} (0) when it cannot be read.
MessageType peek_type(Serializer s, std::string_view message);

class MessageBuilder {
public:
    MessageBuilder(Serializer s, PayloadForm form) : serializer_(s), form_(form) {}

    std::string hello(std::string_view realm) const;
    std::string goodbye() const;
    std::string subscribe(std::uint64_t request, std::string_view topic) const;
    // `invoke`: "single", "roundrobin", ... (WAMP shared registration).
    std::string register_procedure(std::uint64_t request, std::string_view procedure, std::string_view invoke) const;
    std::string publish(std::uint64_t request, std::string_view topic, const PayloadHeader& header,
                        const PayloadBody& body) const;
    std::string call(std::uint64_t request, std::string_view procedure, const PayloadHeader& header,
                     const PayloadBody& body) const;
    // A CALL with no arguments (a meta API question: wamp.session.count, ...).
    std::string call_plain(std::uint64_t request, std::string_view procedure) const;
    std::string unregister(std::uint64_t request, std::uint64_t registration) const;
    // `payload_element`: the payload exactly as encoded in a received message (see PayloadLocator).
    std::string yield(std::uint64_t request, std::string_view payload_element) const;

private:
    Serializer serializer_;
    PayloadForm form_;
};

// Finds the bench's payload in a received EVENT / INVOCATION / RESULT (or, through the
// relay, the PUBLISH / CALL / YIELD as sent). MsgPack: the payload is the message's
// last bytes (a `bin` of known size closes the message). JSON: the string that starts
// with "\u0000" (the spec's binary-in-JSON rule).
class PayloadLocator {
public:
    PayloadLocator(Serializer s, std::size_t payload_size);
    std::optional<PayloadHeader> header(std::string_view message) const;
    // True when the random part arrived unchanged.
    bool body_intact(std::string_view message, const PayloadBody& body) const;
    // The payload element as encoded (JSON: the quoted string; MsgPack: bin header and bytes).
    std::optional<std::string_view> element(std::string_view message) const;

private:
    // Offset of the payload bytes (MsgPack) or base64 text (JSON), or npos.
    std::size_t locate(std::string_view message) const;

    Serializer serializer_;
    std::size_t payload_size_;
    std::size_t base64_size_;
    std::size_t bin_header_size_;
};

}  // namespace bench::wamp
