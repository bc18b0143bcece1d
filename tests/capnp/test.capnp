# Test schema for the codec round-trip table: one field of every kind the C
# generator supports, a struct with explicit defaults, and an interface for
# the client-stub/dispatch test.
@0xf3ec78d2143f7902;

enum Color {
  red @0;
  green @1;
  blue @2;
}

struct Inner {
  id @0 :UInt32;
  name @1 :Text;
}

const maxItems :UInt32 = 16;
const minDelta :Int64 = -9223372036854775808;
const greeting :Text = "hi \"there\"";
const favourite :Color = green;

struct Empty {}

struct All {
  b @0 :Bool;
  i8 @1 :Int8;
  i16 @2 :Int16;
  i32 @3 :Int32;
  i64 @4 :Int64;
  u8 @5 :UInt8;
  u16 @6 :UInt16;
  u32 @7 :UInt32;
  u64 @8 :UInt64;
  f32 @9 :Float32;
  f64 @10 :Float64;
  color @11 :Color;
  text @12 :Text;
  data @13 :Data;
  inner @14 :Inner;
  u16List @15 :List(UInt16);
  i64List @16 :List(Int64);
  boolList @17 :List(Bool);
  textList @18 :List(Text);
  innerList @19 :List(Inner);
  colorList @20 :List(Color);
  dataList @21 :List(Data);
  f64List @22 :List(Float64);
  listList @23 :List(List(UInt32));
  union {
    none @24 :Void;
    num @25 :UInt32;
    word @26 :Text;
    sub @27 :Inner;
  }
  grp :group {
    x @28 :Int32;
    y @29 :Int32;
  }
  choice :union {
    small @30 :UInt8;
    big @31 :UInt64;
  }
  empty @32 :Empty;
}

struct Defaults {
  b @0 :Bool = true;
  i8 @1 :Int8 = -5;
  i16 @2 :Int16 = -300;
  i32 @3 :Int32 = 123456;
  i64 @4 :Int64 = -9000000000;
  u8 @5 :UInt8 = 200;
  u16 @6 :UInt16 = 60000;
  u32 @7 :UInt32 = 4000000000;
  u64 @8 :UInt64 = 18000000000000000000;
  f32 @9 :Float32 = 1.5;
  f64 @10 :Float64 = -2.25;
  color @11 :Color = blue;
  text @12 :Text = "hello";
  data @13 :Data = 0x"dead";
}

interface Calc {
  add @0 (a :Int32, b :Int32) -> (sum :Int32);
  total @1 (items :List(Inner)) -> (sum :UInt64, names :List(Text));
  hold @2 (cap :Calc, tag :Text) -> (back :Calc);
}

# No methods: its dispatch can only say "unknown method".
interface Silent {}
