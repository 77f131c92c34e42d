#pragma once
// WAMP error and close reason URIs the router sends (WAMP spec, "Predefined URIs").
#include <string_view>

namespace blindrouter::wamp::error_uri {
inline constexpr std::string_view invalid_uri = "wamp.error.invalid_uri";
inline constexpr std::string_view no_such_procedure = "wamp.error.no_such_procedure";
inline constexpr std::string_view procedure_already_exists = "wamp.error.procedure_already_exists";
inline constexpr std::string_view no_such_registration = "wamp.error.no_such_registration";
inline constexpr std::string_view no_such_subscription = "wamp.error.no_such_subscription";
inline constexpr std::string_view no_such_session = "wamp.error.no_such_session";
inline constexpr std::string_view invalid_argument = "wamp.error.invalid_argument";
inline constexpr std::string_view not_authorized = "wamp.error.not_authorized";
inline constexpr std::string_view authorization_failed = "wamp.error.authorization_failed";
inline constexpr std::string_view no_such_realm = "wamp.error.no_such_realm";
inline constexpr std::string_view no_such_role = "wamp.error.no_such_role";
inline constexpr std::string_view no_auth_method = "wamp.error.no_auth_method";
inline constexpr std::string_view no_such_principal = "wamp.error.no_such_principal";
inline constexpr std::string_view authentication_failed = "wamp.error.authentication_failed";
inline constexpr std::string_view protocol_violation = "wamp.error.protocol_violation";
inline constexpr std::string_view canceled = "wamp.error.canceled";
inline constexpr std::string_view timeout = "wamp.error.timeout";
inline constexpr std::string_view option_not_allowed = "wamp.error.option_not_allowed";
// Not in the spec's list. limit_reached: a router-internal caller is at its bound of
// pending calls; runtime_error: what Autobahn (and so Crossbar's own procedures)
// answers when a procedure fails without an application error.
inline constexpr std::string_view limit_reached = "wamp.error.limit_reached";
inline constexpr std::string_view runtime_error = "wamp.error.runtime_error";
inline constexpr std::string_view feature_not_supported = "wamp.error.feature_not_supported";
inline constexpr std::string_view system_shutdown = "wamp.close.system_shutdown";
inline constexpr std::string_view close_realm = "wamp.close.close_realm";
inline constexpr std::string_view goodbye_and_out = "wamp.close.goodbye_and_out";
inline constexpr std::string_view normal = "wamp.close.normal";
}  // namespace blindrouter::wamp::error_uri
