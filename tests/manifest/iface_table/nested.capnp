# Interfaces at the top and nested in a struct and in an interface: the
# table names each as the schema spells it.
@0xeb831f3a4a803abe;

interface Top @0xc0ffee0000000001 {
  ping @0 () -> ();
  interface Inner @0xc0ffee0000000002 {}
}

struct Holder {
  x @0 :UInt32;
  interface Deep @0xc0ffee0000000003 {}
}
