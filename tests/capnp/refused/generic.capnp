# expect: generic types are not supported
@0xe2b9a3d4e5f60718;
struct Box(T) { v @0 :T; }
