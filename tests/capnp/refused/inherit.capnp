# expect: interface inheritance is not supported
@0xf2b9a3d4e5f60718;
interface A { a @0 () -> (); }
interface B extends(A) { b @0 () -> (); }
