# expect: default values of struct/list fields are not supported
@0xc2b9a3d4e5f60718;
struct P { x @0 :UInt32; }
struct S { p @0 :P = (x = 1); }
