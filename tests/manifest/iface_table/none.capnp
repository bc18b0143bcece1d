# No interface at all: the count is 0 and no (zero-length) array appears.
@0xff8f639f7c5291a7;

struct Plain {
  x @0 :UInt32;
}
