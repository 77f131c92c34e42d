#!/usr/bin/python3
"""Writes the seed corpora of the framing fuzzers from the decoder seeds:
fuzz_rawsocket_framing gets a handshake followed by message, ping and pong frames;
fuzz_websocket_framing gets a subprotocol selector byte and a chunk-size byte, then masked client
frames (single, fragmented, with control frames in between). Run after
make_corpus.py; deterministic."""
import os
import pathlib
import struct

HERE = pathlib.Path(__file__).resolve().parent
SERIALIZERS = {"json": 1, "msgpack": 2, "cbor": 3}


def rawsocket_frame(payload, frame_type=0):
    return struct.pack("!I", (frame_type << 24) | len(payload)) + payload


def websocket_frame(payload, opcode, fin=True, mask=b"\x11\x22\x33\x44"):
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


def main():
    raw_dir = HERE / "corpus" / "fuzz_rawsocket_framing"
    ws_dir = HERE / "corpus" / "fuzz_websocket_framing"
    raw_dir.mkdir(parents=True, exist_ok=True)
    ws_dir.mkdir(parents=True, exist_ok=True)
    for index, (name, serializer_id) in enumerate(SERIALIZERS.items()):
        seeds = sorted((HERE / "corpus" / f"fuzz_{name}_decode").iterdir())
        opcode = 1 if name == "json" else 2
        for seed in seeds:
            message = seed.read_bytes()
            stream = bytes([0x7F, 0xF0 | serializer_id, 0, 0]) + rawsocket_frame(b"ping", 1) + \
                rawsocket_frame(message) + rawsocket_frame(b"", 2)
            (raw_dir / f"{name}-{seed.name}").write_bytes(stream)
            half = len(message) // 2
            frames = websocket_frame(message, opcode) + \
                websocket_frame(message[:half], opcode, fin=False) + \
                websocket_frame(b"ping", 9) + websocket_frame(message[half:], 0) + \
                websocket_frame(struct.pack("!H", 1000), 8)
            (ws_dir / f"{name}-{seed.name}").write_bytes(bytes([index, 255]) + frames)


if __name__ == "__main__":
    main()
