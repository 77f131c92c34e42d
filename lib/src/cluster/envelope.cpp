#include "blindrouter/cluster/envelope.hpp"

#include <charconv>
#include <iterator>

#include <boost/algorithm/hex.hpp>

#include "blindrouter/cluster/subject.hpp"
#include "blindrouter/codec/decode_result.hpp"
#include "blindrouter/codec/outbound_message.hpp"
#include "blindrouter/wamp/messages.hpp"

namespace blindrouter::cluster {
namespace {

// RFC 3986 §2.1: percent-encodings in uppercase.
constexpr char upper_hex_digits[] = "0123456789ABCDEF";

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::optional<std::uint64_t> parse_decimal(std::string_view text) {
    std::uint64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

std::string percent_encode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                          c == '.' || c == '_' || c == '~';
        if (unreserved) {
            out.push_back(c);
            continue;
        }
        auto byte = static_cast<unsigned char>(c);
        out.push_back('%');
        out.push_back(upper_hex_digits[byte >> 4]);
        out.push_back(upper_hex_digits[byte & 0xf]);
    }
    return out;
}

std::optional<std::string> percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out.push_back(text[i]);
            continue;
        }
        if (i + 2 >= text.size()) return std::nullopt;
        int high = hex_value(text[i + 1]), low = hex_value(text[i + 2]);
        if (high < 0 || low < 0) return std::nullopt;
        out.push_back(static_cast<char>(high << 4 | low));
        i += 2;
    }
    return out;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (auto at = text.find(separator); at != std::string_view::npos; at = text.find(separator, start)) {
        parts.push_back(text.substr(start, at - start));
        start = at + 1;
    }
    parts.push_back(text.substr(start));
    return parts;
}

std::string hex_lower(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size() * 2);
    boost::algorithm::hex_lower(bytes.begin(), bytes.end(), std::back_inserter(out));
    return out;
}

std::optional<std::string> unhex_lower(std::string_view text) {
    // Uppercase is refused so that every byte string has one spelling (keys and
    // subjects are compared as text).
    for (char c : text)
        if (c >= 'A' && c <= 'F') return std::nullopt;
    std::string out;
    out.reserve(text.size() / 2);
    try {
        boost::algorithm::unhex(text.begin(), text.end(), std::back_inserter(out));
    } catch (const boost::algorithm::hex_decode_error&) {
        return std::nullopt;
    }
    return out;
}

std::string node_id_text(std::uint64_t node) {
    std::string text(16, '0');
    char digits[16];
    auto end = std::to_chars(digits, digits + sizeof digits, node, 16).ptr;
    auto length = static_cast<std::size_t>(end - digits);
    text.replace(16 - length, length, digits, length);
    return text;
}

std::optional<std::uint64_t> parse_node_id(std::string_view text) {
    if (text.size() != 16) return std::nullopt;
    for (char c : text)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
    std::uint64_t node = 0;
    std::from_chars(text.data(), text.data() + text.size(), node, 16);
    return node;
}

std::shared_ptr<const std::string> forwarded_body(const wamp::Message& publish, wamp::Serializer sender) {
    if (publish.received_frame) return publish.received_frame;
    codec::OutboundMessage outbound(publish);
    const auto& frame = outbound.encoded(sender);
    if (!frame) return nullptr;
    return std::make_shared<const std::string>(frame.bytes());
}

std::string marked_header(std::string_view text) {
    // Built in place: GCC 12 warns falsely (-Wrestrict) on "=" + std::string.
    std::string marked(1, '=');
    marked += percent_encode(text);
    return marked;
}

std::optional<std::string> read_marked_header(std::string_view value) {
    if (value.empty() || value.front() != '=') return std::nullopt;
    return percent_decode(value.substr(1));
}

Headers envelope_headers(const Envelope& envelope) {
    Headers headers{
        {"Br-V", std::string(envelope_version)},
        {"Br-Ser", std::string(wamp::serializer_name(envelope.serializer))},
        {"Br-Node", node_id_text(envelope.node)},
        {"Br-Seq", std::to_string(envelope.sequence)},
        {"Br-Sess", std::to_string(envelope.session)},
        {"Br-Authid", marked_header(envelope.authid)},
        {"Br-Authrole", marked_header(envelope.authrole)},
        {"Br-Disclose", envelope.disclose ? "1" : "0"},
    };
    // A retained record has none: each retained delivery gets a fresh id (broker.cpp).
    if (envelope.publication != 0) headers.emplace_back("Br-Pub", std::to_string(envelope.publication));
    return headers;
}

std::optional<std::string_view> required(const HeaderLookup& header, std::string_view name, std::string& fault) {
    auto value = header(name);
    if (!value && fault.empty()) fault = "header " + std::string(name) + " missing";
    return value;
}

std::nullopt_t malformed(std::string_view name, std::string& fault) {
    fault = "header " + std::string(name) + " malformed";
    return std::nullopt;
}

std::optional<Origin> read_origin(const HeaderLookup& header, std::string& fault) {
    auto version = required(header, "Br-V", fault);
    if (!version) return std::nullopt;
    if (*version != envelope_version) {
        fault = "envelope version " + std::string(*version) + " is not " + std::string(envelope_version);
        return std::nullopt;
    }
    Origin origin;
    auto ser = required(header, "Br-Ser", fault);
    if (!ser) return std::nullopt;
    auto serializer = wamp::serializer_from_name(*ser);
    if (!serializer) return malformed("Br-Ser", fault);
    origin.serializer = *serializer;
    auto node = required(header, "Br-Node", fault);
    if (!node) return std::nullopt;
    auto node_id = parse_node_id(*node);
    if (!node_id || !*node_id) return malformed("Br-Node", fault);
    origin.node = *node_id;
    auto sess = required(header, "Br-Sess", fault);
    if (!sess) return std::nullopt;
    auto session = parse_decimal(*sess);
    if (!session || !*session) return malformed("Br-Sess", fault);
    origin.session = *session;
    return origin;
}

bool read_identity(const HeaderLookup& header, std::string& authid, std::string& authrole, std::string& fault) {
    auto id_header = required(header, "Br-Authid", fault);
    if (!id_header) return false;
    auto role_header = required(header, "Br-Authrole", fault);
    if (!role_header) return false;
    auto id = read_marked_header(*id_header);
    if (!id) {
        malformed("Br-Authid", fault);
        return false;
    }
    auto role = read_marked_header(*role_header);
    if (!role) {
        malformed("Br-Authrole", fault);
        return false;
    }
    authid = std::move(*id);
    authrole = std::move(*role);
    return true;
}

std::optional<Envelope> read_envelope(const HeaderLookup& header, std::string& fault) {
    auto origin = read_origin(header, fault);
    if (!origin) return std::nullopt;
    Envelope envelope;
    envelope.serializer = origin->serializer;
    envelope.node = origin->node;
    envelope.session = origin->session;
    auto seq = required(header, "Br-Seq", fault);
    if (!seq) return std::nullopt;
    auto sequence = parse_decimal(*seq);
    if (!sequence || *sequence == 0) return malformed("Br-Seq", fault);
    envelope.sequence = *sequence;
    if (!read_identity(header, envelope.authid, envelope.authrole, fault)) return std::nullopt;
    auto disclose = required(header, "Br-Disclose", fault);
    if (!disclose) return std::nullopt;
    if (*disclose != "0" && *disclose != "1") return malformed("Br-Disclose", fault);
    envelope.disclose = *disclose == "1";
    if (auto publication = header("Br-Pub")) {
        auto id = parse_decimal(*publication);
        // WAMP spec, "IDs": 1 to 2^53.
        if (!id || *id == 0 || *id > (std::uint64_t{1} << 53)) return malformed("Br-Pub", fault);
        envelope.publication = *id;
    }
    return envelope;
}

std::string encode_testament_record(const TestamentRecord& record) {
    std::string text = "Br-Realm: " + percent_encode(record.realm) + "\n";
    for (const auto& [key, value] : envelope_headers(record.envelope)) text += key + ": " + value + "\n";
    text += "\n";
    for (const auto& frame : record.frames) {
        text += std::to_string(frame.size());
        text += '\n';
        text += frame;
    }
    return text;
}

std::optional<TestamentRecord> decode_testament_record(std::string_view text, std::string& fault) {
    std::vector<std::pair<std::string_view, std::string_view>> lines;
    for (;;) {
        auto end = text.find('\n');
        if (end == std::string_view::npos) {
            fault = "no end of headers";
            return std::nullopt;
        }
        auto line = text.substr(0, end);
        text.remove_prefix(end + 1);
        if (line.empty()) break;
        auto colon = line.find(": ");
        if (colon == std::string_view::npos) {
            fault = "a header line without a value";
            return std::nullopt;
        }
        lines.emplace_back(line.substr(0, colon), line.substr(colon + 2));
    }
    auto header = [&lines](std::string_view name) -> std::optional<std::string_view> {
        for (const auto& [key, value] : lines)
            if (key == name) return value;
        return std::nullopt;
    };
    TestamentRecord record;
    auto envelope = read_envelope(header, fault);
    if (!envelope) return std::nullopt;
    record.envelope = std::move(*envelope);
    auto realm = header("Br-Realm");
    auto realm_name = realm ? percent_decode(*realm) : std::nullopt;
    if (!realm_name || realm_name->empty()) {
        fault = "header Br-Realm missing or malformed";
        return std::nullopt;
    }
    record.realm = std::move(*realm_name);
    while (!text.empty()) {
        auto end = text.find('\n');
        auto size = end == std::string_view::npos ? std::nullopt : parse_decimal(text.substr(0, end));
        if (!size || *size > text.size() - end - 1) {
            fault = "a frame length is malformed or beyond the record";
            return std::nullopt;
        }
        record.frames.emplace_back(text.substr(end + 1, *size));
        text.remove_prefix(end + 1 + *size);
    }
    return record;
}

std::string encode_retained_record(const RetainedRecord& record) {
    return encode_testament_record(TestamentRecord{record.realm, record.envelope, {record.frame}});
}

std::optional<RetainedRecord> decode_retained_record(std::string_view text, std::string& fault) {
    auto kept = decode_testament_record(text, fault);
    if (!kept) return std::nullopt;
    if (kept->frames.size() != 1) {
        fault = "a retained record holds " + std::to_string(kept->frames.size()) + " frames, not one";
        return std::nullopt;
    }
    return RetainedRecord{std::move(kept->realm), std::move(kept->envelope), std::move(kept->frames.front())};
}

std::optional<core::ClusterRetained> retained_from_record(std::string_view realm, std::string_view key,
                                                          std::string_view value, std::string& fault) {
    auto record = decode_retained_record(value, fault);
    if (!record) return std::nullopt;
    if (record->realm != realm) {
        fault = "a record of another realm";
        return std::nullopt;
    }
    auto decoded = codec::decode(record->envelope.serializer, std::make_shared<const std::string>(std::move(record->frame)));
    if (!decoded || decoded.message().type != wamp::MessageType::publish) {
        fault = decoded ? "the frame is not a PUBLISH" : "the frame does not decode: " + decoded.error();
        return std::nullopt;
    }
    const auto& topic = wamp::Publish(decoded.message()).topic();
    if (!wamp::is_valid_uri(topic) || retained_key(realm, topic) != key) {
        fault = "the frame's topic is not the one its key names";
        return std::nullopt;
    }
    core::ClusterRetained retained;
    retained.publisher.session_id = record->envelope.session;
    retained.publisher.realm = record->realm;
    retained.publisher.authid = std::move(record->envelope.authid);
    retained.publisher.authrole = std::move(record->envelope.authrole);
    retained.publisher.serializer = record->envelope.serializer;
    retained.publish = decoded.message();
    retained.disclose_publisher = record->envelope.disclose;
    return retained;
}

}  // namespace blindrouter::cluster
