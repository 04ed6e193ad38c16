#!/usr/bin/env python3
"""Writes an Android ART heap dump (JAVA PROFILE 1.0.3) with objects whose
lifecycle has ended but that are still strongly reachable, the way
LeakCanary's Shark decides it, and their living twins; for heapgraph's
`lifecycle-leaks` test. Uses the ART layout of ../gen/gen-android.py
(segments, heap infos, Object's fields, class overhead arrays).

Designed (see README.md):
  leaking  MainActivity A1  mDestroyed      held by LeakHolder.sLeakedActivity
  leaking  MainActivity A3  mDestroyed      held by a View's mContext, the View held by
                                            InputMethodManager.mServedView (a library leak)
  leaking  View V1          context destroyed  (the View above, detached)
  leaking  DetailFragment F1 mFragmentManager null  held by LeakHolder.sDetachedFragment
  leaking  Dialog D1        mDecor null     held by LeakHolder.sDialog
  leaking  CartViewModel M1 mCleared        held by LeakHolder.sViewModel
  leaking  SyncService S2   not in ActivityThread.mServices, held by LeakHolder.sService
  living   MainActivity A2 (running), A4 (finishing, not destroyed), F2, D2, M2, V2,
           SyncService S1 (in ActivityThread.mServices: an ArrayMap's mArray)

Usage: gen.py OUT.hprof
"""
import importlib.util
import os
import struct
import sys

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("gen_android", os.path.join(here, "..", "gen", "gen-android.py"))
art = importlib.util.module_from_spec(spec)
spec.loader.exec_module(art)
OBJ, BOOL, INT = art.OBJ, art.BOOL, art.INT
APP, IMAGE = art.APP, art.IMAGE

OBJECT, CLASS = 0x70000000, art.CLASS_CLASS
CONTEXT, WRAPPER, ACTIVITY = 0x70000200, 0x70000210, 0x70000220
VIEW, FRAGMENT, DIALOG, VIEWMODEL, IMM = 0x70000230, 0x70000240, 0x70000250, 0x70000260, 0x70000270
SERVICE, THREAD, ARRAYMAP, OBJ_ARR = 0x70000280, 0x70000290, 0x700002A0, 0x700002B0
SYNC = 0x12C00140
S1, S2, AT, MAP, ARR = 0x12D02000, 0x12D02100, 0x12D02200, 0x12D02300, 0x12D02400
MAIN, DETAIL, CART, HOLDER = 0x12C00100, 0x12C00110, 0x12C00120, 0x12C00130
A1, A2, A3, A4 = 0x12D00000, 0x12D00100, 0x12D00200, 0x12D00300
V1, V2, F1, F2, FM, D1, D2, DECOR, M1, M2, IMM1, ATTACH = (0x12D01000 + 0x100 * i for i in range(12))
LOADER = 0

NAMES = {OBJECT: "java.lang.Object", CLASS: "java.lang.Class", CONTEXT: "android.content.Context",
         WRAPPER: "android.content.ContextWrapper", ACTIVITY: "android.app.Activity",
         VIEW: "android.view.View", FRAGMENT: "androidx.fragment.app.Fragment",
         DIALOG: "android.app.Dialog", VIEWMODEL: "androidx.lifecycle.ViewModel",
         IMM: "android.view.inputmethod.InputMethodManager", MAIN: "com.example.MainActivity",
         DETAIL: "com.example.DetailFragment", CART: "com.example.CartViewModel",
         HOLDER: "com.example.LeakHolder", SERVICE: "android.app.Service",
         THREAD: "android.app.ActivityThread", ARRAYMAP: "android.util.ArrayMap",
         OBJ_ARR: "java.lang.Object[]", SYNC: "com.example.SyncService"}

# Each object's fields, own class first, then up to Object's.
OBJECT_FIELDS = lambda cid: [(OBJ, cid), (INT, 0)]


def activity(oid, destroyed, finished):
    # MainActivity (no fields) < Activity (mDestroyed, mFinished) < ContextWrapper (mBase) < Context < Object
    return art.instance(oid, MAIN, [(BOOL, destroyed), (BOOL, finished), (OBJ, 0)] + OBJECT_FIELDS(MAIN))


def build():
    w = art.Writer()
    for cid, name in NAMES.items():
        w.load_class(cid, name)
    for s in ("app", "image", "zygote"):
        w.sid(s)
    for cls in (HOLDER, IMM, THREAD):
        w.root(0x05, cls)  # ROOT STICKY CLASS
    image = []
    image += art.class_dump(w, OBJECT, 0, 0, [], [("shadow$_klass_", OBJ), ("shadow$_monitor_", INT)], 8)
    image += art.class_dump(w, CLASS, OBJECT, 0, [], [], 0)
    image += art.class_dump(w, CONTEXT, OBJECT, 0, [], [], 8)
    image += art.class_dump(w, WRAPPER, CONTEXT, 0, [], [("mBase", OBJ)], 12)
    image += art.class_dump(w, ACTIVITY, WRAPPER, 0, [], [("mDestroyed", BOOL), ("mFinished", BOOL)], 14)
    image += art.class_dump(w, VIEW, OBJECT, 0, [], [("mAttachInfo", OBJ), ("mContext", OBJ)], 16)
    image += art.class_dump(w, FRAGMENT, OBJECT, 0, [], [("mFragmentManager", OBJ)], 12)
    image += art.class_dump(w, DIALOG, OBJECT, 0, [], [("mDecor", OBJ), ("mContext", OBJ)], 16)
    image += art.class_dump(w, VIEWMODEL, OBJECT, 0, [], [("mCleared", BOOL)], 9)
    image += art.class_dump(w, IMM, OBJECT, 0, [("sInstance", OBJ, IMM1)], [("mServedView", OBJ)], 12)
    image += art.class_dump(w, SERVICE, WRAPPER, 0, [], [], 12)
    image += art.class_dump(w, THREAD, OBJECT, 0, [("sCurrentActivityThread", OBJ, AT)], [("mServices", OBJ)], 12)
    image += art.class_dump(w, ARRAYMAP, OBJECT, 0, [], [("mArray", OBJ), ("mSize", INT)], 16)
    image += art.class_dump(w, OBJ_ARR, OBJECT, 0, [], [], 0)
    for data in image:
        w.obj(data, IMAGE)
    app = []
    app += art.class_dump(w, MAIN, ACTIVITY, LOADER, [], [], 14)
    app += art.class_dump(w, DETAIL, FRAGMENT, LOADER, [], [], 12)
    app += art.class_dump(w, CART, VIEWMODEL, LOADER, [], [], 9)
    app += art.class_dump(w, SYNC, SERVICE, LOADER, [], [], 12)
    app += art.class_dump(w, HOLDER, OBJECT, LOADER, [
        ("sLeakedActivity", OBJ, A1), ("sLiveActivity", OBJ, A2), ("sFinishingActivity", OBJ, A4),
        ("sDetachedFragment", OBJ, F1), ("sLiveFragment", OBJ, F2),
        ("sDialog", OBJ, D1), ("sLiveDialog", OBJ, D2),
        ("sViewModel", OBJ, M1), ("sLiveViewModel", OBJ, M2), ("sLiveView", OBJ, V2),
        ("sService", OBJ, S2)], [], 8)
    app.append(activity(A1, 1, 1))
    app.append(activity(A2, 0, 0))
    app.append(activity(A3, 1, 1))
    app.append(activity(A4, 0, 1))
    # Views: fields mAttachInfo, mContext; then Object's.
    app.append(art.instance(V1, VIEW, [(OBJ, 0), (OBJ, A3)] + OBJECT_FIELDS(VIEW)))
    app.append(art.instance(V2, VIEW, [(OBJ, ATTACH), (OBJ, A2)] + OBJECT_FIELDS(VIEW)))
    app.append(art.instance(ATTACH, OBJECT, OBJECT_FIELDS(OBJECT)))
    # Fragments: mFragmentManager.
    app.append(art.instance(F1, DETAIL, [(OBJ, 0)] + OBJECT_FIELDS(DETAIL)))
    app.append(art.instance(F2, DETAIL, [(OBJ, FM)] + OBJECT_FIELDS(DETAIL)))
    app.append(art.instance(FM, OBJECT, OBJECT_FIELDS(OBJECT)))
    # Dialogs: mDecor, mContext.
    app.append(art.instance(D1, DIALOG, [(OBJ, 0), (OBJ, A2)] + OBJECT_FIELDS(DIALOG)))
    app.append(art.instance(D2, DIALOG, [(OBJ, DECOR), (OBJ, A2)] + OBJECT_FIELDS(DIALOG)))
    app.append(art.instance(DECOR, OBJECT, OBJECT_FIELDS(OBJECT)))
    # View models: mCleared.
    app.append(art.instance(M1, CART, [(BOOL, 1)] + OBJECT_FIELDS(CART)))
    app.append(art.instance(M2, CART, [(BOOL, 0)] + OBJECT_FIELDS(CART)))
    # Services (fields: ContextWrapper's mBase, then Object's); the running
    # one is in ActivityThread.mServices, an ArrayMap of token -> service.
    app.append(art.instance(S1, SYNC, [(OBJ, 0)] + OBJECT_FIELDS(SYNC)))
    app.append(art.instance(S2, SYNC, [(OBJ, 0)] + OBJECT_FIELDS(SYNC)))
    app.append(art.instance(AT, THREAD, [(OBJ, MAP)] + OBJECT_FIELDS(THREAD)))
    app.append(art.instance(MAP, ARRAYMAP, [(OBJ, ARR), (INT, 1)] + OBJECT_FIELDS(ARRAYMAP)))
    app.append(bytes([0x22]) + struct.pack(">IIII", ARR, 0, 2, OBJ_ARR) + struct.pack(">II", ATTACH, S1))
    # The input method manager serving the detached view.
    app.append(art.instance(IMM1, IMM, [(OBJ, V1)] + OBJECT_FIELDS(IMM)))
    for data in app:
        w.obj(data, APP)
    return w


def main():
    w = build()
    segments = art.stream(w)
    top = art.header() + b"".join(w.string_records) + b"".join(w.class_records)
    with open(sys.argv[1], "wb") as f:
        f.write(top + b"".join(art.rec(0x1C, s) for s in segments) + art.rec(0x2C, b""))


if __name__ == "__main__":
    main()
