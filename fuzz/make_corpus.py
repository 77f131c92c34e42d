#!/usr/bin/python3
"""Writes the seed corpora of the decode fuzzers: valid WAMP messages of every type,
in JSON, MsgPack and CBOR, into fuzz/corpus/fuzz_<serializer>_decode/, and the
huge-length inputs into fuzz/regressions/. Run with /usr/bin/python3 (python3-msgpack
and python3-cbor2). The output is deterministic; re-running rewrites the same files."""
import base64
import json
import pathlib

import cbor2
import msgpack

HERE = pathlib.Path(__file__).resolve().parent

MESSAGES = {
    "hello": [1, "realm1", {"roles": {"publisher": {}, "subscriber": {}, "caller": {}, "callee": {}},
                            "authmethods": ["anonymous"]}],
    "welcome": [2, 123, {"roles": {"broker": {}, "dealer": {}}}],
    "abort": [3, {"message": "no such realm"}, "wamp.error.no_such_realm"],
    "challenge": [4, "wampcra", {"challenge": "{\"nonce\": 1}"}],
    "authenticate": [5, "c2lnbmF0dXJl", {}],
    "goodbye": [6, {}, "wamp.close.close_realm"],
    "error": [8, 48, 7, {}, "wamp.error.invalid_argument", ["bad"], {"why": 1}],
    "publish": [16, 1, {"acknowledge": True, "exclude_me": False}, "com.t",
                [1, 2.5, "x", None, True, b"\x00\x01"], {"k": {"n": [1]}}],
    "publish_payload": [16, 2, {"enc_algo": "cryptobox", "enc_serializer": "json"}, "com.t",
                        b"\x00\x01\x02\x03 encrypted"],
    "publish_passthru": [16, 3, {"ppt_scheme": "x_custom", "ppt_serializer": "native"}, "com.t",
                         [b"\xde\xad\xbe\xef"]],
    "published": [17, 1, 2],
    "subscribe": [32, 3, {"match": "prefix"}, "com"],
    "subscribed": [33, 3, 4],
    "unsubscribe": [34, 5, 4],
    "unsubscribed": [35, 5, {}],
    "event": [36, 4, 2, {"publisher": 9, "topic": "com.t"}, [1], {"a": 2}],
    "call": [48, 7, {"timeout": 1000, "receive_progress": True}, "com.add", [1, 2]],
    "cancel": [49, 7, {"mode": "kill"}],
    "result": [50, 7, {"progress": True}, [3]],
    "register": [64, 8, {"match": "wildcard"}, "com..add"],
    "registered": [65, 8, 10],
    "unregister": [66, 9, 10],
    "unregistered": [67, 9, {}],
    "invocation": [68, 11, 10, {"caller": 5}, [1, 2], {"x": -1}],
    "interrupt": [69, 11, {"mode": "killnowait"}],
    "yield": [70, 11, {}, [3, [], {}], {"big": 2**64 - 1, "neg": -2**63, "f": 1e300, "z": -0.0,
                                       "u": "\u00fc\U0001F600", "nested": [[[{"d": [None]}]]]}],
}


def json_form(value):
    """WAMP JSON: binary is a string of NUL followed by base64."""
    if isinstance(value, bytes):
        return "\0" + base64.b64encode(value).decode()
    if isinstance(value, list):
        return [json_form(v) for v in value]
    if isinstance(value, dict):
        return {k: json_form(v) for k, v in value.items()}
    return value


ENCODERS = {
    "json": lambda m: json.dumps(json_form(m), ensure_ascii=False).encode(),
    "msgpack": lambda m: msgpack.packb(m, use_bin_type=True),
    "cbor": cbor2.dumps,
}

# Forms the library encoders above do not write.
EXTRA = {
    "cbor": {
        # self-described tag, indefinite array and map, chunked text, tag, half float, undefined
        "publish_indefinite": bytes.fromhex("d9d9f79f10c107bf6166f93e006175f7ff7f63636f6d622e74ff9f0102ffa1616b01ff"),
        "publish_chunked_payload": bytes.fromhex("851001a061745f4100420102ff"),
    },
    "msgpack": {
        # array16 head, int8 id, float32 and int64 options, ext in arguments
        "publish_other_forms": bytes.fromhex("dc000510d00782a166ca3fc00000a16ed3fffffffffffffffea17491d4052a"),
    },
}

# Inputs that once asked for gigabytes: a declared length far beyond the bytes.
REGRESSIONS = {
    "msgpack": {
        "array32_in_array": "91ddffffffff",
        "top_level_array32": "ddffffffff",
        "map32_options": "931001dfffffffff",
        "str32_topic": "94100180dbffffffff",
        "bin32_payload": "95100180a174c6ffffffff",
    },
    "cbor": {
        "array64_in_array": "819bffffffffffffffff",
        "top_level_array64": "9bffffffffffffffff",
        "map64_options": "831001bbffffffffffffffff",
        "text64_topic_14_bytes": "841001a07bffffffffffffffff00",
        "bytes64_payload": "851001a061745bffffffffffffffff",
        "chunk32_in_arguments": "851001a061749f5f5affffffffffff",
    },
    "json": {
        "deep_options": "5b31362c20312c207b2278223a20" + "5b" * 5000 + "5d" * 5000 + "7d2c202274225d",
    },
}


def write(directory, name, data):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(data)


def main():
    for serializer, encode in ENCODERS.items():
        corpus = HERE / "corpus" / f"fuzz_{serializer}_decode"
        for name, message in MESSAGES.items():
            write(corpus, name, encode(message))
        for name, data in EXTRA.get(serializer, {}).items():
            write(corpus, name, data)
        regressions = HERE / "regressions" / f"fuzz_{serializer}_decode"
        for name, hex_data in REGRESSIONS[serializer].items():
            write(regressions, name, bytes.fromhex(hex_data))


if __name__ == "__main__":
    main()
