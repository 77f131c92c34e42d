#include "relay_framing.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace bench::relay {

std::size_t rewrite_client_frame(char* frame, const FrameHead& head) {
    char* payload = frame + head.header;
    std::size_t size = head.total - head.header;
    std::uint32_t key;
    std::memcpy(&key, payload - 4, 4);
    apply_mask(payload, size, key);
    char header[max_frame_header];
    std::size_t header_size = write_frame_header(Transport::websocket, head.kind, size, false, header);
    // Same FIN bit as received: a fragment stays a fragment.
    if (!head.fin) header[0] = static_cast<char>(header[0] & 0x7F);
    std::memcpy(payload - header_size, header, header_size);
    return head.header - header_size;
}

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// The value of a header field of the request head, or nullopt.
std::optional<std::string_view> field(std::string_view head, std::string_view name) {
    std::size_t at = head.find("\r\n");
    while (at != std::string_view::npos && at + 2 < head.size()) {
        std::size_t start = at + 2;
        std::size_t end = head.find("\r\n", start);
        if (end == std::string_view::npos) break;
        auto line = head.substr(start, end - start);
        auto colon = line.find(':');
        if (colon != std::string_view::npos && iequals(trim(line.substr(0, colon)), name))
            return trim(line.substr(colon + 1));
        at = end;
    }
    return std::nullopt;
}

// Sec-WebSocket-Accept: base64(SHA-1(key + the RFC's GUID)) (RFC 6455 §4.2.2 step 5.4).
std::string accept_key(std::string_view key) {
    std::string text(key);
    text += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
    unsigned char encoded[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
    int n = EVP_EncodeBlock(encoded, digest, SHA_DIGEST_LENGTH);
    return std::string(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(n));
}

Upgrade refuse(std::string why) {
    Upgrade u;
    u.status = Upgrade::Status::error;
    u.response = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: " + std::to_string(why.size()) +
                 "\r\n\r\n" + why;
    return u;
}

}  // namespace

Upgrade answer_upgrade(std::string_view request, std::size_t max_request) {
    auto end = request.find("\r\n\r\n");
    if (end == std::string_view::npos) {
        if (request.size() >= max_request) return refuse("request head too large");
        return {};
    }
    auto head = request.substr(0, end + 2);
    if (!head.starts_with("GET ")) return refuse("not a GET request");
    auto key = field(head, "Sec-WebSocket-Key");
    auto offered = field(head, "Sec-WebSocket-Protocol");
    if (!key || key->empty()) return refuse("no Sec-WebSocket-Key");
    Upgrade u;
    bool found = false;
    // The client's order of preference (RFC 6455 §4.2.2 step 5.5 lets the server pick).
    for (std::size_t at = 0; offered && at <= offered->size() && !found;) {
        auto comma = std::min(offered->find(',', at), offered->size());
        auto name = trim(offered->substr(at, comma - at));
        for (auto s : {Serializer::json, Serializer::msgpack})
            if (name == websocket_subprotocol(s)) {
                u.serializer = s;
                found = true;
            }
        at = comma + 1;
    }
    if (!found) return refuse("no WAMP subprotocol offered (wamp.2.json, wamp.2.msgpack)");
    u.status = Upgrade::Status::complete;
    u.request_size = end + 4;
    u.response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
                 accept_key(*key) + "\r\nSec-WebSocket-Protocol: " + std::string(websocket_subprotocol(u.serializer)) +
                 "\r\n\r\n";
    return u;
}

}  // namespace bench::relay
