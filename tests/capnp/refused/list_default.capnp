# expect: default values of struct/list fields are not supported
@0xd2b9a3d4e5f60718;
struct S { l @0 :List(UInt8) = [1, 2]; }
