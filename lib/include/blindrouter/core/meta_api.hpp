#pragma once
// The WAMP meta API as Crossbar serves it (cb:router/service.py; shared/ADVANCED.md
// §6): procedures registered by the realm's trusted service session, called and
// authorized like any other procedure. Served so far: wamp.session.count.
// WELCOME announces session_meta_api only once all of the session meta API is served.
#include "blindrouter/core/service_session.hpp"

namespace blindrouter::core {

class Realm;

void serve_meta_api(ServiceSession& service, const Realm& realm);

// wamp.session.count(filter_authroles=None) -> int, as Crossbar computes it.
CallOutcome session_count(const Realm& realm, const CallArguments& arguments);

}  // namespace blindrouter::core
