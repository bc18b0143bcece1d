# Test-only interfaces: built into the test programs of tests/guest (and the
# IPC benchmark), never into the product. Generated C names start with
# capos_test_.
@0xc75ab2361fce5298;

# A probe service for the endpoint tests: it reports what the kernel
# delivered with each call, so a harness can check identity and transfer.
interface IpcProbe @0xe9e9dcd0a043effc {
  echo @0 (data :Data) -> (data :Data, callerRef0 :UInt64, callerRef1 :UInt64, badge :UInt64,
                          epoch :UInt64, principal :Text, profile :Text);
  takeCap @1 (cap :Capability) -> (interfaceId :UInt64);
  # The server keeps the cap; a Console it writes through at once.
  hold @2 () -> ();
  # Never answered: the call stays in flight (for disconnect tests).
  fillTable @3 () -> (filled :UInt32);
  # The server fills its own cap table; drainTable empties it again.
  drainTable @4 () -> ();
}
