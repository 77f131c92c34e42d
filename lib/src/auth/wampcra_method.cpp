#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "blindrouter/auth/static_methods.hpp"
#include "blindrouter/wamp/error_uri.hpp"
#include "secret_crypto.hpp"

namespace blindrouter::auth {
namespace {

// The challenge string, with Crossbar's keys in its order (cb:router/auth/wampcra.py:58-66).
std::string challenge_json(const Principal& principal, std::uint64_t session_id) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    auto field = [&](const char* key, const std::string& value) {
        writer.Key(key);
        writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
    };
    writer.StartObject();
    field("authid", principal.authid);
    field("authrole", principal.authrole);
    field("authmethod", principal.authmethod);
    field("authprovider", principal.authprovider);
    writer.Key("session");
    writer.Uint64(session_id);
    field("nonce", detail::random_nonce());
    field("timestamp", detail::utc_timestamp());
    writer.EndObject();
    return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace

// cb:router/auth/wampcra.py, type static.
Outcome WampCraMethod::hello(const HelloInfo& hello) {
    auto it = hello.authid ? config_.users.find(*hello.authid) : config_.users.end();
    if (it == config_.users.end())
        return Outcome::deny(std::string(wamp::error_uri::not_authorized),
                             "no principal with authid \"" + hello.authid.value_or("None") + "\" exists");
    const auto& user = it->second;
    Principal principal;
    principal.authid = it->first;
    principal.authrole = user.role.value_or(config_.default_role.value_or(""));
    principal.authmethod = "wampcra";
    principal.authprovider = authprovider_;
    if (auto denial = check_principal(principal, hello.realm, realms_)) return *denial;
    // A secret named by an unset environment variable: Crossbar fails here with an internal error.
    if (!user.secret)
        return Outcome::deny(std::string(wamp::error_uri::not_authorized),
                             "no secret is configured for authid \"" + principal.authid + "\"");

    auto challenge = challenge_json(principal, hello.session_id);
    wamp::Dict extra{{"challenge", wamp::Value{challenge}}};
    expected_signatures_.clear();
    if (user.salt && user.iterations && user.keylen) {
        extra.emplace_back("salt", wamp::Value{*user.salt});
        extra.emplace_back("iterations", wamp::Value{*user.iterations});
        extra.emplace_back("keylen", wamp::Value{*user.keylen});
        auto derived = wampcra_derive_key(*user.secret, *user.salt, static_cast<int>(*user.iterations),
                                          static_cast<int>(*user.keylen));
        expected_signatures_.push_back(wampcra_signature(derived, challenge));  // Crossbar 26.x
    }
    expected_signatures_.push_back(wampcra_signature(*user.secret, challenge));  // plain, and Crossbar 22.x salted
    principal_ = std::move(principal);
    return Outcome::challenge("wampcra", std::move(extra));
}

Outcome WampCraMethod::authenticate(const std::string& signature, const wamp::Dict&) {
    bool valid = false;
    // Every candidate is compared, so the time taken does not tell which one matched.
    for (const auto& expected : expected_signatures_) valid |= detail::secrets_equal(signature, expected);
    if (principal_ && valid) return Outcome::welcome(std::move(*principal_));
    return Outcome::deny(std::string(wamp::error_uri::not_authorized), "WAMP-CRA client signature is invalid");
}

}  // namespace blindrouter::auth
