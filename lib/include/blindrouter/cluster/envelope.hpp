#pragma once
// What travels beside a forwarded frame (SCALE-OUT.md §2.4): the body of a NATS
// message is the sender's WAMP message in its own serializer, payload bytes
// untouched; these NATS headers say how to read it and who sent it. No header is
// ever derived from the payload. Values are percent-encoded (a header value cannot
// hold CR or LF, and authids are client strings).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "blindrouter/core/cluster_link.hpp"
#include "blindrouter/core/ids.hpp"
#include "blindrouter/wamp/message.hpp"
#include "blindrouter/wamp/serializer.hpp"

namespace blindrouter::cluster {

// The envelope version this node writes and reads (header Br-V).
inline constexpr std::string_view envelope_version = "1";

struct Envelope {
    wamp::Serializer serializer = wamp::Serializer::json;  // Br-Ser: the sender's session serializer
    std::uint64_t node = 0;                                // Br-Node: the origin node's id
    std::uint64_t sequence = 0;                            // Br-Seq: per origin connection, from 1
    core::SessionId session = 0;                           // Br-Sess: the publisher's session
    std::string authid;                                    // Br-Authid
    std::string authrole;                                  // Br-Authrole
    bool disclose = false;                                 // Br-Disclose: the origin's disclose decision
    core::PublicationId publication = 0;                   // Br-Pub: its id on the origin node; 0: none (not sent)
};

using Headers = std::vector<std::pair<std::string, std::string>>;
// Looks one header up by name; nullopt when the message has none of that name.
using HeaderLookup = std::function<std::optional<std::string_view>(std::string_view name)>;

// The body of the NATS message for `publish`, a PUBLISH of a session on `sender`:
// the frame it arrived in, byte for byte, routing fields included (no copy: the
// received buffer itself). A PUBLISH the router built (a testament, a meta event)
// arrived in no frame and is encoded in `sender` with its arguments spliced; null
// when it cannot be expressed there.
std::shared_ptr<const std::string> forwarded_body(const wamp::Message& publish, wamp::Serializer sender);

// The headers every message between nodes starts with, events and calls alike:
// Br-V (ours, else refused), Br-Ser, Br-Node and Br-Sess (both non-zero).
struct Origin {
    wamp::Serializer serializer = wamp::Serializer::json;
    std::uint64_t node = 0;
    core::SessionId session = 0;
};
// The readers' two faults. A header `name`, or nullopt with `fault` naming it as
// missing (unless `fault` already names an earlier one).
std::optional<std::string_view> required(const HeaderLookup& header, std::string_view name, std::string& fault);
// Sets `fault` to name `name` as malformed; returns nullopt for `return malformed(...)`.
std::nullopt_t malformed(std::string_view name, std::string& fault);

// nullopt with `fault` naming the first missing or malformed header.
std::optional<Origin> read_origin(const HeaderLookup& header, std::string& fault);
// Br-Authid and Br-Authrole (marked_header, below: either may be empty); false with
// `fault` set when one is missing or malformed.
bool read_identity(const HeaderLookup& header, std::string& authid, std::string& authrole, std::string& fault);

Headers envelope_headers(const Envelope& envelope);
// The envelope of a received message; nullopt with `fault` set when a header is
// missing or malformed, or the version is not ours.
std::optional<Envelope> read_envelope(const HeaderLookup& header, std::string& fault);

// A session's testaments as kept in JetStream KV br_testament (SCALE-OUT.md §2.9):
// the realm and the envelope of the session as header lines, a blank line, then
// each PUBLISH frame (in Br-Ser) as its decimal length, a newline and its bytes.
struct TestamentRecord {
    std::string realm;
    Envelope envelope;  // disclose is decided by the publishing node, from the role
    std::vector<std::string> frames;
};
std::string encode_testament_record(const TestamentRecord& record);
// nullopt with `fault` set when the record is not one of ours.
std::optional<TestamentRecord> decode_testament_record(std::string_view text, std::string& fault);

// The retained event of one topic as kept in JetStream KV br_ret (SCALE-OUT.md
// §2.9), in a testament record's form with exactly one frame: the publisher's
// PUBLISH as it arrived, byte for byte (its payload is never decoded here).
struct RetainedRecord {
    std::string realm;
    Envelope envelope;  // disclose: the publisher's role's decision, as forwarded
    std::string frame;
};
std::string encode_retained_record(const RetainedRecord& record);
// nullopt with `fault` set when the record is not one of ours or holds other than one frame.
std::optional<RetainedRecord> decode_retained_record(std::string_view text, std::string& fault);
// The retained event read from br_ret under `key` for `realm`: nullopt with `fault`
// set when the record is malformed, of another realm, or its frame is not a
// PUBLISH to the topic that `key` names (subject.hpp, retained_key).
std::optional<core::ClusterRetained> retained_from_record(std::string_view realm, std::string_view key,
                                                          std::string_view value, std::string& fault);

// `text` cut at each `separator`: n separators give n + 1 parts, empty ones kept.
std::vector<std::string_view> split(std::string_view text, char separator);

// Bytes as lowercase hex, and back (nullopt for an odd length, a non-hex or an
// uppercase digit).
std::string hex_lower(std::string_view bytes);
std::optional<std::string> unhex_lower(std::string_view text);
// A node id as 16 lowercase hex digits, and back.
std::string node_id_text(std::uint64_t node);
std::optional<std::uint64_t> parse_node_id(std::string_view text);
// A header or key field in decimal (Br-Seq, Br-Sess, ...): digits only, no sign, in range.
std::optional<std::uint64_t> parse_decimal(std::string_view text);

// RFC 3986 percent-encoding of everything but unreserved characters, and back
// (nullopt for a malformed escape).
std::string percent_encode(std::string_view text);
std::optional<std::string> percent_decode(std::string_view text);
// A header value that may be empty (authid, authrole, features): percent-encoded
// behind a '=' mark, since libnats mis-reads a message whose header value is empty
// (found with the RPC headers: the message lost its following headers).
std::string marked_header(std::string_view text);
std::optional<std::string> read_marked_header(std::string_view value);

}  // namespace blindrouter::cluster
