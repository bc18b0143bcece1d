# expect: imports are not supported
@0x82b9a3d4e5f60718;
using T = import "../test.capnp";
struct S { i @0 :T.Inner; }
