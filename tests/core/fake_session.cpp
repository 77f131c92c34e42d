#include "core/fake_session.hpp"

#include <boost/test/unit_test.hpp>

#include "blindrouter/codec/json_codec.hpp"

namespace blindrouter::testing {

wamp::Message parse(const std::string& json) {
    auto result = codec::decode_json(std::make_shared<const std::string>(json));
    BOOST_REQUIRE_MESSAGE(result, "does not decode: " + json + ": " + result.error());
    return std::move(result.message());
}

std::string json_of(const codec::SharedOutbound& message) {
    const auto& frame = message->encoded(wamp::Serializer::json);
    BOOST_REQUIRE_MESSAGE(frame, "message cannot be expressed in JSON");
    return *frame;
}

rapidjson::Document dom(const std::string& json) {
    rapidjson::Document d;
    d.Parse(json.c_str(), json.size());
    BOOST_REQUIRE_MESSAGE(!d.HasParseError(), "not JSON: " + json);
    return d;
}

core::SharedPeer make_peer(core::SessionId id, std::string authid, std::string authrole) {
    auto peer = std::make_shared<core::PeerInfo>();
    peer->session_id = id;
    peer->realm = "realm1";
    peer->authid = std::move(authid);
    peer->authrole = std::move(authrole);
    peer->authmethod = "anonymous";
    return peer;
}

}  // namespace blindrouter::testing
