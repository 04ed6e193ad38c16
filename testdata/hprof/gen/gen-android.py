#!/usr/bin/env python3
"""Writes a small Android ART heap dump (JAVA PROFILE 1.0.3) the way ART's
writer lays it out, for heapgraph's HPROF tests.

Followed: AOSP art/runtime/hprof/hprof.cc (Android 8-10 era, read via a public
mirror): 4-byte ids; string ids are counters from 0x400000; class serials from
1; all UTF8 and LOAD CLASS records before the heap; HEAP DUMP SEGMENTs of at
most 128 objects (roots count too) or 4096 bytes, each new segment resetting
the current heap so a HEAP DUMP INFO (0xFE) with 'A' app / 'I' image / 'Z'
zygote precedes the next object; image and zygote objects also reported as
ROOT VM INTERNAL; CLASS DUMPs interleaved with instances (a class may be used
before it is dumped); java.lang.Class / Object instance fields emitted as
statics named `$class$<field>`; per-class overhead as a fake `byte[]` with
id `class | 1` behind the static `$classOverhead`; `String` with a fake
`value` field (declared last by String's CLASS DUMP) pointing at a
`byte[]` (compressed) or `char[]` written right after the string;
`ClassLoader` with a fake `runtimeInternalObjects` Object[] at id `obj + 4`.
Older ART/Dalvik writers also emit 0xC3 PRIMITIVE ARRAY NODATA, included once.

Usage: gen-android.py OUT.hprof [--split OUT-split.hprof]
  --split also writes the same dump with segments cut every 1000 bytes,
  splitting sub-records across segments as some writers do (perfetto#5764).
"""
import struct
import sys

APP, IMAGE, ZYGOTE = 0x41, 0x49, 0x5A
OBJ, BOOL, CHAR, FLOAT, DOUBLE, BYTE, SHORT, INT, LONG = 2, 4, 5, 6, 7, 8, 9, 10, 11


class Writer:
    def __init__(self):
        self.strings = {}
        self.string_records = []
        self.class_records = []
        self.class_serial = 1
        self.subs = []  # (kind, bytes, heap) in dump order; kind 'root' or 'obj'

    def sid(self, text):
        if text not in self.strings:
            sid = 0x400000 + len(self.strings)
            self.strings[text] = sid
            body = struct.pack(">I", sid) + text.encode("utf-8")
            self.string_records.append(rec(0x01, body))
        return self.strings[text]

    def load_class(self, class_id, name):
        body = struct.pack(">IIII", self.class_serial, class_id, 0, self.sid(name))
        self.class_serial += 1
        self.class_records.append(rec(0x02, body))

    def root(self, tag, obj, *extra):
        self.subs.append(("root", bytes([tag]) + struct.pack(">I", obj) + b"".join(struct.pack(">I", e & 0xFFFFFFFF) for e in extra), None))

    def obj(self, data, heap):
        self.subs.append(("obj", data, heap))


def rec(tag, body):
    return bytes([tag]) + struct.pack(">II", 0, len(body)) + body


def value(ty, v):
    return {OBJ: ">I", BOOL: ">B", BYTE: ">b", CHAR: ">H", SHORT: ">h", INT: ">i", FLOAT: ">f", LONG: ">q", DOUBLE: ">d"}[ty] and struct.pack(
        {OBJ: ">I", BOOL: ">B", BYTE: ">b", CHAR: ">H", SHORT: ">h", INT: ">i", FLOAT: ">f", LONG: ">q", DOUBLE: ">d"}[ty], v)


def class_dump(w, cid, super_id, loader, statics, fields, instance_size, overhead=0):
    out = []
    if overhead > 4:
        # The fake overhead byte[] (id class|1) is written before the class.
        out.append(bytes([0x23]) + struct.pack(">IIIB", cid | 1, 0, overhead - 4, BYTE) + bytes(overhead - 4))
    body = bytes([0x20]) + struct.pack(">II", cid, 0) + struct.pack(">IIIIII", super_id, loader, 0, 0, 0, 0)
    body += struct.pack(">I", instance_size) + struct.pack(">H", 0)
    all_statics = []
    if overhead > 4:
        all_statics.append(("$classOverhead", OBJ, cid | 1))
    # java.lang.Class and java.lang.Object instance fields as `$class$` statics.
    all_statics += [("$class$classLoader", OBJ, loader), ("$class$superClass", OBJ, super_id),
                    ("$class$shadow$_klass_", OBJ, CLASS_CLASS), ("$class$shadow$_monitor_", INT, 0)]
    all_statics += statics
    body += struct.pack(">H", len(all_statics))
    for name, ty, v in all_statics:
        body += struct.pack(">IB", w.sid(name), ty) + value(ty, v)
    body += struct.pack(">H", len(fields))
    for name, ty in fields:
        body += struct.pack(">IB", w.sid(name), ty)
    out.append(body)
    return out


def instance(oid, cid, field_values):
    data = b"".join(value(ty, v) for ty, v in field_values)
    return bytes([0x21]) + struct.pack(">IIII", oid, 0, cid, len(data)) + data


CLASS_CLASS = 0x70000010


def build():
    w = Writer()
    # Class ids (image space for boot classes, app space for the app's).
    OBJECT, CLASS, STRING, REF, WEAKREF, LOADER, PATHLOADER = 0x70000000, CLASS_CLASS, 0x70000020, 0x70000030, 0x70000040, 0x70000050, 0x70000060
    INT_ARR, BYTE_ARR, CHAR_ARR, OBJ_ARR = 0x70000100, 0x70000110, 0x70000120, 0x70000130
    NODE, APPCLS = 0x12C00000, 0x12C00100
    names = {OBJECT: "java.lang.Object", CLASS: "java.lang.Class", STRING: "java.lang.String",
             REF: "java.lang.ref.Reference", WEAKREF: "java.lang.ref.WeakReference",
             LOADER: "java.lang.ClassLoader", PATHLOADER: "dalvik.system.PathClassLoader",
             INT_ARR: "int[]", BYTE_ARR: "byte[]", CHAR_ARR: "char[]", OBJ_ARR: "java.lang.Object[]",
             NODE: "com.example.Node", APPCLS: "com.example.App"}
    for cid, name in names.items():
        w.load_class(cid, name)
    for s in ("app", "image", "zygote"):
        w.sid(s)

    app_loader = 0x12C00200
    chain_len = 300
    node_ids = [0x12D00000 + 0x20 * i for i in range(chain_len)]
    weak_ref = 0x12C00300
    garbage = 0x12C00400
    strings = [(0x12C00500, "hello", True), (0x12C00600, "caf\u00e9 \u20ac", False), (0x70001000, "image-string", True)]

    # --- roots first (ART visits roots before objects) ---
    w.root(0x8B, app_loader)                       # ROOT DEBUGGER
    w.root(0x89, strings[2][0])                    # ROOT INTERNED STRING
    w.root(0x01, APPCLS, 0x1234)                   # ROOT JNI GLOBAL
    w.root(0x08, 0x12C00700, 1, -1)                # ROOT THREAD OBJECT (thread serial 1)
    w.root(0x03, node_ids[0], 1, -1)               # ROOT JAVA FRAME of thread 1
    w.root(0x8E, strings[0][0], 1, -1)             # ROOT JNI MONITOR
    w.root(0x05, OBJECT)                           # ROOT STICKY CLASS
    w.root(0x04, weak_ref, 1)                      # ROOT NATIVE STACK

    # --- objects, heap by heap as ART's object walk meets them ---
    # Image space: boot classes (with VM-internal roots), one interned string.
    for cid in (OBJECT, CLASS):
        pass
    image = []
    image += class_dump(w, OBJECT, 0, 0, [], [("shadow$_klass_", OBJ), ("shadow$_monitor_", INT)], 8, overhead=124)
    image += class_dump(w, CLASS, OBJECT, 0, [], [], 0, overhead=128)
    image += class_dump(w, STRING, OBJECT, 0, [("serialVersionUID", LONG, -6849794470754667710)],
                        [("count", INT), ("hash", INT), ("value", OBJ)], 16, overhead=200)
    image += class_dump(w, REF, OBJECT, 0, [], [("pendingNext", OBJ), ("queue", OBJ), ("queueNext", OBJ), ("referent", OBJ)], 24, overhead=100)
    image += class_dump(w, WEAKREF, REF, 0, [], [], 24, overhead=100)
    image += class_dump(w, LOADER, OBJECT, 0, [], [("parent", OBJ), ("runtimeInternalObjects", OBJ)], 16, overhead=100)
    image += class_dump(w, PATHLOADER, LOADER, 0, [], [], 16, overhead=100)
    for cid in (INT_ARR, BYTE_ARR, CHAR_ARR, OBJ_ARR):
        image += class_dump(w, cid, OBJECT, 0, [], [], 0, overhead=100)
    sid, text, compressed = strings[2]
    image.append(instance(sid, STRING, [(INT, len(text)), (INT, 0), (OBJ, sid + 8), (OBJ, STRING), (INT, 0)]))
    image.append(bytes([0x23]) + struct.pack(">IIIB", sid + 8, 0, len(text), BYTE) + text.encode("latin-1"))
    for data in image:
        w.root(0x8D, struct.unpack(">I", data[1:5])[0])  # ROOT VM INTERNAL
        w.obj(data, IMAGE)

    # Zygote space: the PathClassLoader's fake runtimeInternalObjects array.
    w.obj(instance(app_loader, PATHLOADER, [(OBJ, 0), (OBJ, app_loader + 4), (OBJ, PATHLOADER), (INT, 0)]), ZYGOTE)
    w.obj(bytes([0x22]) + struct.pack(">IIII", app_loader + 4, 0, 1, OBJ_ARR) + struct.pack(">I", APPCLS), ZYGOTE)
    w.root(0x8D, app_loader)

    # App space. The chain's nodes come before their class dump (ART walks
    # objects in address order, classes are just objects).
    for i, nid in enumerate(node_ids):
        nxt = node_ids[i + 1] if i + 1 < chain_len else 0
        label = strings[0][0] if i == 0 else 0
        # Node fields (own class first): label, next, value; then Object's.
        w.obj(instance(nid, NODE, [(OBJ, label), (OBJ, nxt), (INT, i), (OBJ, NODE), (INT, 0)]), APP)
    for cid, super_id, statics, fields in (
        (NODE, OBJECT, [], [("label", OBJ), ("next", OBJ), ("value", INT)]),
        (APPCLS, OBJECT, [("root", OBJ, node_ids[0]), ("weak", OBJ, weak_ref), ("text", OBJ, strings[1][0])], []),
    ):
        for data in class_dump(w, cid, super_id, app_loader, statics, fields, 20 if cid == NODE else 8, overhead=60):
            w.obj(data, APP)
    # A WeakReference to the chain's middle node.
    w.obj(instance(weak_ref, WEAKREF, [(OBJ, 0), (OBJ, 0), (OBJ, 0), (OBJ, node_ids[150]), (OBJ, WEAKREF), (INT, 0)]), APP)
    # Strings: compressed (byte[]) and not (char[]); the array right after.
    for sid, text, compressed in strings[:2]:
        w.obj(instance(sid, STRING, [(INT, len(text)), (INT, 0), (OBJ, sid + 16), (OBJ, STRING), (INT, 0)]), APP)
        if compressed:
            arr = bytes([0x23]) + struct.pack(">IIIB", sid + 16, 0, len(text), BYTE) + text.encode("latin-1")
        else:
            units = text.encode("utf-16-be")
            arr = bytes([0x23]) + struct.pack(">IIIB", sid + 16, 0, len(units) // 2, CHAR) + units
        w.obj(arr, APP)
    # Garbage: ART dumps without a GC, so unreachable objects appear too.
    w.obj(bytes([0x23]) + struct.pack(">IIIB", garbage, 0, 1000, INT) + bytes(4000), APP)
    # 0xC3 PRIMITIVE ARRAY NODATA (older writers): length and type, no data.
    w.obj(bytes([0xC3]) + struct.pack(">IIIB", garbage + 0x1000, 0, 50, INT), APP)
    # The thread object, so JAVA FRAME roots have an owner.
    w.obj(instance(0x12C00700, OBJECT, [(OBJ, OBJECT), (INT, 0)]), APP)
    return w


def stream(w):
    """The heap as ART writes it: segments of <= 128 entries / 4096 bytes,
    each starting on the default heap."""
    segments, cur, n, heap = [], b"", 0, None
    for kind, data, h in w.subs:
        if n >= 128 or len(cur) >= 4096:
            segments.append(cur)
            cur, n, heap = b"", 0, None
        if kind == "obj" and h != heap:
            name = {APP: "app", IMAGE: "image", ZYGOTE: "zygote"}[h]
            cur += bytes([0xFE]) + struct.pack(">II", h, w.strings[name])
            heap = h
        cur += data
        n += 1
    segments.append(cur)
    return segments


def header():
    return b"JAVA PROFILE 1.0.3\0" + struct.pack(">IQ", 4, 1700000000000)


def main():
    w = build()
    segments = stream(w)
    top = header() + b"".join(w.string_records) + b"".join(w.class_records)
    with open(sys.argv[1], "wb") as f:
        f.write(top + b"".join(rec(0x1C, s) for s in segments) + rec(0x2C, b""))
    if len(sys.argv) == 4 and sys.argv[2] == "--split":
        whole = b"".join(segments)
        cut = [whole[i:i + 1000] for i in range(0, len(whole), 1000)]
        with open(sys.argv[3], "wb") as f:
            f.write(top + b"".join(rec(0x1C, s) for s in cut) + rec(0x2C, b""))


if __name__ == "__main__":
    main()
