# capOS interfaces: the one definition of every capability interface and DTO.
#
# The kernel and the runtime refer to interfaces by these 64-bit ids and to
# methods by their ordinals (@0, @1, ...). Parameter and result payloads are
# Cap'n Proto messages of the method's param/result structs.
@0xcb52b1daf3785bc6;

# Serial console: the kernel log and the first user-visible output.
interface Console @0x8e4bdb43eb8876cb {
  write @0 (data :Data) -> ();
  # Write bytes to the console (bounded per call).
  readLine @1 (maxBytes :UInt32) -> (line :Data);
  # Wait for one line of input (without its newline), echoing as it is typed.
}

# Monotonic time and sleeping.
interface Timer @0xd65a103f9152fdcf {
  now @0 () -> (ns :UInt64);
  # Nanoseconds since boot, monotonic.
  sleepUntil @1 (deadlineNs :UInt64) -> ();
  # Complete once now() >= deadlineNs.
}

# Anonymous memory in the holder's own address space (the runtime's heap).
interface VirtualMemory @0xdab7a2354a92dbb9 {
  map @0 (hint :UInt64, size :UInt64, prot :UInt32) -> (addr :UInt64);
  # Map zeroed pages; prot bits: 1 = write, 2 = exec (never both).
  unmap @1 (addr :UInt64, size :UInt64) -> ();
}

# Starts programs packed in the boot image with an explicit grant list.
interface ProcessSpawner @0x9e1654edee2cff9c {
  spawn @0 (binary :Text, grants :List(CapGrant)) -> (handle :ProcessHandle);
}

struct CapGrant {
  name @0 :Text;
  cap @1 :Capability;
}

# The parent's view of a child process.
interface ProcessHandle @0xb622c1133b35faf9 {
  wait @0 () -> (exitCode :Int64);
  kill @1 () -> ();
}
