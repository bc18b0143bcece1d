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
  clock @2 () -> (tscBase :UInt64, nsMult :UInt64);
  # How now() reads the clock, for a holder that reads it without a call:
  # ns = ((rdtsc - tscBase) * nsMult) >> 32, with a 128-bit product. Fixed
  # from boot and the same on every CPU.
}

# Anonymous memory in the holder's own address space (the runtime's heap).
interface VirtualMemory @0xdab7a2354a92dbb9 {
  map @0 (hint :UInt64, size :UInt64, prot :UInt32) -> (addr :UInt64);
  # Map zeroed pages; prot bits: 1 = write, 2 = exec (never both).
  unmap @1 (addr :UInt64, size :UInt64) -> ();
}

# Starts programs packed in the boot image with an explicit grant list.
interface ProcessSpawner @0x9e1654edee2cff9c {
  spawn @0 (binary :Text, grants :List(CapGrant), session :SessionContext, args :Text,
            threads :Bool) -> (handle :ProcessHandle);
  # The child holds exactly its grants. Its session context is `session` if
  # given (only the session path holds SessionContext caps), else the caller's.
  # args (at most 1023 bytes) reach the child in its CapSet page.
  # threads: also grant the child "threads" (a ThreadSpawner), "thread" (a
  # ThreadControl) and "park" (a ParkSpace), all bound to the child itself.
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

# Ends the machine (QEMU's isa-debug-exit: QEMU exits with status * 2 + 1).
interface Power @0xbc86d63adf96dc82 {
  off @0 (status :UInt32) -> ();
}

# Makes endpoints: kernel objects through which one process serves calls
# from others. The owner side may RECV and RETURN; client facets may only CALL.
interface EndpointFactory @0xa2e21a3723fc4483 {
  create @0 (interfaceId :UInt64, disclose :UInt32) -> (owner :Endpoint, client :Capability);
  # interfaceId: what clients call through the facets (their cap's interface).
  # disclose: bit 0 principal, bit 1 profile: caller fields the owner may see.
}

# The owner side of an endpoint (RECV and RETURN are ring opcodes on it).
interface Endpoint @0x9f6d73396573ece7 {
  facet @0 (badge :UInt64, notifyRelease :Bool) -> (client :Capability);
  # Another CALL-only facet; its badge is a routing label the owner chose,
  # delivered with each call. It is never identity. With notifyRelease,
  # the owner's RECV also delivers one release notice (CAP_RECV_F_RELEASED,
  # that badge, no params, nothing to RETURN) once the last holder of this
  # facet has dropped it: a holder that dies idle is noticed at once. The
  # notice is allocated with the facet, so it cannot fail to arrive.
}

# Mints session contexts; held by init and the session path only.
interface SessionAuthority @0xabb56fea96dd6585 {
  mint @0 (principal :Text, profile :Text) -> (session :SessionContext);
}

# One session: a process spawned into it carries it, immutably, for life.
interface SessionContext @0x89099282e79f0d64 {
  info @0 () -> (principal :Text, profile :Text, epoch :UInt64, live :Bool);
  revoke @1 () -> ();
  # From now on calls from its processes to endpoints fail closed.
}

# The kernel's resource counters, for leak accounting in tests.
interface KernelStats @0xe1592bd3ea8c7628 {
  get @0 () -> (freeFrames :UInt64, objects :UInt64, heapBytes :UInt64,
                processes :UInt32, capSlots :UInt64, pendingCalls :UInt64,
                deviceMaps :UInt64, dmaPages :UInt64, irqRoutes :UInt64,
                heapPages :UInt64,
                tscHz :UInt64, tsc :UInt64, userTsc :UInt64, kernelTsc :UInt64,
                irqTsc :UInt64, idleTsc :UInt64);
  # deviceMaps: BAR pages mapped into processes; dmaPages: DMAPool pages
  # allocated; irqRoutes: interrupt vectors routed to an Interrupt cap.
  # heapPages: frames the kernel heap holds. Its class pages stay with their
  # class once carved, so how many it holds follows the peak of concurrent
  # allocations (on several CPUs, of the scheduling); freeFrames + heapPages
  # is the frame count a leak test can compare exactly.
  # CPU time in TSC cycles since boot, summed over the CPUs (tsc is the
  # counter now, tscHz its calibrated rate): userTsc in user mode, kernelTsc
  # in the kernel for a process, irqTsc in the kernel with no process
  # (interrupts that woke an idle loop), idleTsc halted. Under QEMU's
  # -icount shift=0 a cycle is one guest instruction (and halted time is
  # the virtual time slept).
  processes @1 () -> (list :List(ProcessCaps));
  # Every process and the interface of every cap it holds (authority audits).
  cpus @2 () -> (list :List(CpuStats));
  # The work each online CPU has done since boot (per-CPU counters).
}

struct CpuStats {
  cpu @0 :UInt32;          # 0 = the boot CPU
  ticks @1 :UInt64;        # timer interrupts taken
  busyTicks @2 :UInt64;    # ... of which found a user thread running
  switches @3 :UInt64;     # thread switches onto this CPU
  syscalls @4 :UInt64;     # system calls entered on this CPU
  ipis @5 :UInt64;         # inter-processor interrupts received
  runs @6 :UInt64;         # threads taken from this CPU's own run queue
  steals @7 :UInt64;       # threads taken from another CPU's run queue
  ipisSent @8 :UInt64;     # inter-processor interrupts sent (wake-ups, shootdowns)
  tlbRounds @9 :UInt64;    # TLB shootdown rounds begun here (one per unmap call)
}

struct ProcessCaps {
  pid @0 :UInt32;
  name @1 :Text;
  interfaces @2 :List(UInt64);   # one per held cap, in slot order (at most 32 listed)
  held @3 :UInt32;               # how many caps it holds in all
  pages @4 :UInt32;              # user pages it has mapped (4 KiB each; its DMA and device pages apart)
  userTsc @5 :UInt64;            # TSC cycles it ran in user mode (KernelStats.get)
  kernelTsc @6 :UInt64;          # TSC cycles the kernel ran for it (its calls; interrupts taken while it ran)
  pending @7 :UInt32;            # its calls the kernel holds unanswered (calls, posted RECVs, waits)
}

# A service that answers every call with its own bytes: the smallest
# endpoint server, and the example service of the boot manifest.
interface Echo @0xf72e07eb2e0c33a9 {
  echo @0 (data :Data) -> (data :Data);
}

# The boot manifest: the services init starts, compiled by tools/mkmanifest
# from manifests/system.manifest and packed into the boot package.  It holds
# what the text says, unchecked: init validates the whole graph with
# lib/manifest before it spawns anything.  Every entry keeps the line of the
# text it came from, so an error can name it.
struct SystemManifest @0x9c2ac58a9a1df91c {
  sessions @0 :List(SessionSpec);
  services @1 :List(ServiceSpec);
}

# A session context a service runs in (fixed at spawn, never changed).
struct SessionSpec @0xecc74b2921eecdcb {
  name @0 :Text;
  principal @1 :Text;
  profile @2 :Text;
  line @3 :UInt32;
}

enum RestartPolicy @0xe25fb3c437d541b3 {
  never @0;
  onFailure @1;   # restart after a non-zero exit or a fault
  always @2;      # restart after any exit
}

struct ServiceSpec @0xaf86c36aca9e7146 {
  name @0 :Text;
  binary @1 :Text;             # a program of the boot package
  session @2 :Text;            # a SessionSpec name
  restart @3 :RestartPolicy;
  retries @4 :UInt32;          # restarts allowed before init gives up
  disclosePrincipal @5 :Bool;  # callers' principal may be disclosed to it
  discloseProfile @6 :Bool;    # callers' profile may be disclosed to it
  grants @7 :List(GrantSpec);
  exports @8 :List(ExportSpec);
  line @9 :UInt32;
  args @10 :Text;              # reaches the service in its CapSet (at most 1023 bytes)
  devices @11 :List(DeviceSpec);
}

# A PCI device the service drives: init claims it from the kernel
# (DeviceManager.claim) and grants the three caps as NAME-mmio (DeviceMmio),
# NAME-dma (DMAPool) and NAME-irq (Interrupt).
struct DeviceSpec @0xd3b1c0e5a4f27a61 {
  name @0 :Text;
  vendorId @1 :UInt16;
  deviceId @2 :UInt16;
  dmaPages @3 :UInt32;         # the DMAPool's page quota
  line @4 :UInt32;
}

# One capability the service receives, under a name in its CapSet.
struct GrantSpec @0x819afbdbc5bb7c6d {
  name @0 :Text;
  line @1 :UInt32;
  source :union {
    kernel @2 :Text;           # a kernel cap init holds ("console", ...)
    service @3 :ExportRef;     # a client facet of another service's export
  }
}

struct ExportRef @0xa01953a7c56e9e84 {
  service @0 :Text;
  export @1 :Text;
}

# init's supervisor, served by init itself and granted by the manifest as
# `init.services` (no service is granted it in the default manifest).
interface ServiceControl @0xb258ca6fb8954434 {
  list @0 () -> (services :List(ServiceStatus));
  # Every service of the manifest, in manifest order.
  kill @1 (name :Text) -> (error :Int32);
  # End the service's process as a fault would (its exit code is the
  # kernel's "killed"); the service's restart policy decides what follows.
  # error: 0, or NOT_FOUND (-17) for no such service, DISCONNECTED (-16)
  # when it is not running.
}

struct ServiceStatus @0xded16e96d7a9b2f6 {
  name @0 :Text;
  running @1 :Bool;
  restarts @2 :UInt32;  # restarts so far, of at most `retries`
  retries @3 :UInt32;
  lastExit @4 :Int64;   # the last instance's exit code (0 before any exit)
}

# An endpoint the service serves; it holds the owner side under `name`.
struct ExportSpec @0xf689eaacfc5a1412 {
  name @0 :Text;
  interfaceId @1 :UInt64;
  line @2 :UInt32;
}

# The boot package as init sees it: the manifest and the names of the
# programs it holds (read-only; only init gets it).
interface BootPackage @0xec7b41c165cab8da {
  manifestSize @0 () -> (size :UInt64);
  readManifest @1 (offset :UInt64, maxBytes :UInt32) -> (data :Data);
  binaries @2 () -> (names :List(Text));
}

# Starts threads in the holder's own process (the address space and the
# capability table stay the process's; scheduling is per thread).
interface ThreadSpawner @0x82f56fecda88ece5 {
  spawn @0 (entry :UInt64, arg :UInt64, stackTop :UInt64, fsBase :UInt64)
        -> (thread :ThreadHandle, id :UInt32);
  # The thread gets its own ring (header, SQ, CQ) and starts at entry with
  # rdi = that ring, rsi = arg, rcx = its id, rsp = stackTop - 8 (stackTop
  # 16-byte aligned, as after a call) and FS base = fsBase (its TLS block).
}

# A thread's joinable end; releasing it detaches the thread.
interface ThreadHandle @0xcc5ddf033b9df25a {
  join @0 () -> (value :UInt64);
}

# Operations a process performs on its own threads. Every thread has its
# own ring, so the submitter is the thread the call runs on: id 0 names the
# caller itself, any other id another thread of the process.
interface ThreadControl @0xbd1f3d0c2fe66f00 {
  exit @0 (id :UInt32, value :UInt64) -> ();
  # End that thread (its ring goes with it); its join returns value. The
  # last thread's exit ends the process with value as its exit code.
  setFsBase @1 (id :UInt32, base :UInt64) -> ();
}

# Futex-style parking for the threads of one process: user space does the
# uncontended path with atomics on a 32-bit word; the kernel only sleeps and
# wakes. Private to the process it is bound to.
interface ParkSpace @0xe5f6f9977c0a6104 {
  wait @0 (addr :UInt64, expected :UInt32, timeoutNs :UInt64, thread :UInt32) -> (result :ParkResult);
  # If the word at addr still holds expected, park the calling thread until
  # a wake or the timeout (0 = none): it blocks in this cap_enter, and the
  # call completes on its own ring with the reason. `thread` is 0 or the
  # caller's own id; any other is refused (CAP_ERR_WRONG_THREAD).
  wake @1 (addr :UInt64, count :UInt32) -> (woken :UInt32);
}

enum ParkResult {
  woken @0;
  mismatch @1;
  timedOut @2;
}

# A terminal: what a login shell gets instead of the raw console. Lines come
# through the kernel's line discipline (Backspace and Ctrl-U edit); with
# echo off (password entry) nothing typed is shown; Ctrl-C and Ctrl-D end
# the read with an event instead of a line.
interface TerminalSession @0xe534b9fa9573828a {
  write @0 (data :Data) -> ();
  readLine @1 (maxBytes :UInt32, echo :Bool) -> (line :Data, event :TerminalEvent);
  readKeys @2 (maxBytes :UInt32) -> (data :Data);
  # Raw input for a line editor: the bytes typed so far (at least one, at
  # most maxBytes), as typed: no echo, no editing, Ctrl-C, Ctrl-D and
  # escape sequences arrive as bytes.
  size @3 () -> (columns :UInt16, rows :UInt16);
  # The terminal's size (the serial terminal cannot know its own: 80x24;
  # a network terminal passes the size its client reports).
}

enum TerminalEvent {
  line @0;
  interrupt @1;      # Ctrl-C: the partial line is discarded
  endOfInput @2;     # Ctrl-D on an empty line
}

# The append-only audit log. Records are structured and never carry
# secrets; reading them back is for the operator profile only (the log's
# endpoint discloses each caller's profile to it).
interface AuditLog @0xf4de535391674f40 {
  record @0 (event :Text, reason :Text, session :UInt64) -> (seq :UInt64);
  tail @1 (count :UInt32) -> (records :List(AuditRecord), dropped :UInt64);
  # denied (an application failure) unless the caller's profile is "operator"
  recordNamed @2 (event :Text, reason :Text, session :UInt64, principal :Text) -> (seq :UInt64);
  # The same, naming the principal: only where that leaks nothing (a
  # successful login, a logout, an expiry, an account change), never for
  # a denial.
}

struct AuditRecord {
  seq @0 :UInt64;
  timeNs @1 :UInt64;
  event @2 :Text;
  reason @3 :Text;
  session @4 :UInt64;
  callerRef @5 :UInt64;      # first half of the kernel's caller reference: who wrote it
  principal @6 :Text;        # empty unless the writer named it
}

# Password verification. Verifiers are Argon2id hashes that never leave the
# service; neither does a password. Failures are counted per account and
# answered with a growing back-off; an unknown principal costs as much time
# as a known one.
interface CredentialStore @0xaafa14ba32be1bd0 {
  verify @0 (principal :Text, password :Data) -> (result :CredentialResult, retryAfterMs :UInt64);
  setup @1 (principal :Text, password :Data) -> (created :Bool);
  # Creates the first credential, and only while the store is empty.
  isEmpty @2 () -> (empty :Bool);
  change @3 (principal :Text, old :Data, new :Data) -> (result :CredentialResult, retryAfterMs :UInt64);
  # A new password, only with the current one (checked, counted and backed
  # off like a login; ok means changed).
}

enum CredentialResult {
  ok @0;
  wrongPassword @1;
  unknownPrincipal @2;
  backoff @3;             # too many failures: try again after retryAfterMs
}

# Local accounts (kept in the store when the service holds a Store
# namespace, else in RAM; the manifest args seed an empty one): status and
# the profiles each may take.
interface AccountStore @0x8cd2fa3231816631 {
  lookup @0 (principal :Text) -> (found :Bool, status :AccountStatus, profiles :List(Text), keys :List(Data));
  # keys: the account's authorized Ed25519 public keys (32 bytes each)
  passkeyAdd @1 (principal :Text, record :Data, createdNs :UInt64) -> (result :AdminResult);
  # A passkey for the account: record is lib/webauthn's credential record
  # (wa_credential_encode: id, COSE algorithm, public key, sign count); at
  # most 4 per account; keyExists for an id already registered.
  passkeyFind @2 (credentialId :Data) -> (found :Bool, principal :Text, record :Data, createdNs :UInt64,
                                          lastUsedNs :UInt64);
  passkeyUsed @3 (credentialId :Data, signCount :UInt32, usedNs :UInt64) -> (result :AdminResult);
  # After a login with it: the authenticator's new sign count, and when.
}

# Account administration for operators: only the operator profile's bundle
# carries it (the AuthorityBroker hands it out; guests never see it). Every
# change is audited with the account's principal, every refusal with its
# reason code.
interface AccountAdmin @0x83ee589a031f1c34 {
  list @0 () -> (accounts :List(AccountInfo));
  add @1 (principal :Text, profiles :List(Text)) -> (result :AdminResult);
  # A new active account that may take these profiles (1 to 4).
  setStatus @2 (principal :Text, status :AccountStatus) -> (result :AdminResult);
  addKey @3 (principal :Text, key :Text) -> (result :AdminResult);
  # key: an authorized key line as ssh-keygen writes it,
  # "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5... [comment]" (at most 4 per account)
  removeKey @4 (principal :Text, key :Text) -> (result :AdminResult);
}

struct AccountInfo {
  principal @0 :Text;
  status @1 :AccountStatus;
  profiles @2 :List(Text);
  keys @3 :List(Text);       # "ssh-ed25519 AAAA..." each
}

enum AdminResult {
  ok @0;
  exists @1;              # add: the principal has an account already
  notFound @2;            # no such account
  badName @3;             # a principal is 1 to 23 bytes of A-Z a-z 0-9 _ -
  badProfile @4;          # 1 to 4 profiles, each 1 to 15 bytes of a-z 0-9 -
  badKey @5;              # not an ssh-ed25519 key line
  full @6;                # no room for another account or key
  keyExists @7;
  noSuchKey @8;
}

enum AccountStatus {
  active @0;
  disabled @1;
  locked @2;
  recoveryOnly @3;
}

# Logs people in: a session is minted only when the CredentialStore and the
# AccountStore agree. Every decision is audited with a principal-blanked
# reason code.
interface SessionManager @0x99f752155dc51e08 {
  login @0 (principal :Text, password :Data, profile :Text)
        -> (result :LoginResult, session :UserSession, context :SessionContext, retryAfterMs :UInt64);
  guest @1 () -> (session :UserSession, context :SessionContext, result :LoginResult);
  sshPublicKey @2 (principal :Text, publicKey :Data, signedData :Data, signature :Data, profile :Text)
               -> (result :LoginResult, session :UserSession, context :SessionContext);
  # The bridge the SSH gateway uses: an Ed25519 signature by an authorized
  # key over signedData (the SSH session identifier) mints a publicKey session.
  occupancy @3 () -> (open :UInt32, capacity :UInt32, opened :UInt64, ended :UInt64,
                      refusedFull :UInt64, held :UInt32);
  passkeyChallenge @4 () -> (challenge :Data);
  # 32 random bytes from the entropy source for one passkey login (WebAuthn
  # get), single use, valid 2 minutes; fails (no challenge) without entropy
  # or with every slot outstanding.
  passkeyLogin @5 (credentialId :Data, clientData :Data, authData :Data, signature :Data, origin :Text,
                   profile :Text) -> (result :LoginResult, session :UserSession, context :SessionContext,
                                      reason :Text);
  # The bridge the web gateway uses: a WebAuthn assertion (lib/webauthn:
  # RP ID localhost, user verification required, origin the gateway's
  # https://localhost[:PORT]) by a passkey the account service holds mints
  # a passkey session; reason: the refusal's code (also audited).
  # The session table: sessions open now and the table's size, sessions
  # opened and ended since boot, logins refused because the table was full,
  # and the caps the manager keeps for open sessions (leak accounting).
}

enum LoginResult {
  ok @0;
  denied @1;              # the reason is in the audit log, not told to the caller
  backoff @2;             # too many failures: try again after retryAfterMs
  tooManySessions @3;     # the session table is full (audited as session-table-full)
}

# One logged-in session, as its holder sees it.
# A session ends when its holder logs it out, when the shell it watches
# ends, when its context is revoked, and when it expires (idle or absolute
# lifetime, per profile); its slot, its SessionContext and everything the
# manager minted for it are then released, and stale facets fail.
interface UserSession @0x9eda9cdc566606d0 {
  info @0 () -> (principal :Text, profile :Text, authMethod :Text, createdNs :UInt64, expiresNs :UInt64,
                 idleTimeoutNs :UInt64);
  # expiresNs: the absolute end (0: none); idleTimeoutNs: the shell logs out
  # after that long without input (0: none).
  logout @1 (reason :Text) -> ();
  # End the session now; reason is an audit code (logout, idle, expired...).
  watch @2 (shell :ProcessHandle) -> ();
  # The session also ends when that process ends (one per session).
  changePassword @3 (old :Data, new :Data) -> (result :PasswordChange, retryAfterMs :UInt64);
  # The session's own principal's password (not for guests); audited.
  reauthenticate @4 (password :Data, purpose :Text) -> (result :PasswordChange, retryAfterMs :UInt64);
  passkeyChallenge @5 () -> (challenge :Data);
  # A challenge to register a passkey for this session's principal (WebAuthn
  # create; single use, 2 minutes); not for guests.
  passkeyRegister @6 (clientData :Data, attestation :Data, origin :Text) -> (ok :Bool, reason :Text);
  # Verify the browser's registration (lib/webauthn: none or packed
  # self-attestation, user verification required) and keep the credential
  # with the account service; audited.
  # Step-up: the session's own principal's password again (Argon2id, counted
  # and backed off like a login); changed means it was right. Nothing
  # changes; purpose is an audit code (agent-tool...). Audited.
}

enum PasswordChange {
  changed @0;
  wrongPassword @1;       # the current password was not right
  backoff @2;             # too many failures: try again after retryAfterMs
  notAllowed @3;          # a guest session, or a principal without a password
  tooShort @4;            # the new password has fewer than 8 bytes
}

# Decides what a session's shell holds: the only place that maps a profile
# to capabilities. It reads the profile from the SessionContext (a kernel
# object, so it cannot be forged) and fails closed for a revoked session or
# an unknown profile.
interface AuthorityBroker @0x913a2fa271e12d72 {
  shellBundle @0 (context :SessionContext) -> (grants :List(CapGrant));
  toolPolicy @1 (context :SessionContext) -> (agent :Bool, tools :List(ToolPolicy));
  # Agent mode for the session's profile (the broker's manifest args): whether
  # the bundle carries a LanguageModel ("model"), and each tool's permission
  # mode. A tool not listed is forbidden.
  remoteView @2 (context :SessionContext) -> (grants :List(CapGrant));
  # What a remote session CapSet (the Cap'n Proto RPC gateway) may expose for
  # the session, by name: narrower than a shell's bundle (an operator:
  # "system-info", a read-only SystemInfo, and "echo"; anyone else nothing).
}

struct ToolPolicy {
  tool @0 :Text;
  mode @1 :PermissionMode;
}

# Starts capos-shell, and nothing else: no binary selector. The shell gets
# the terminal, its UserSession and the broker's bundle for the session, in
# that session; a bundle carrying broad authority is refused.
interface RestrictedShellLauncher @0xcbde29467db4029f {
  launchShell @0 (context :SessionContext, terminal :TerminalSession, session :UserSession)
             -> (shell :ProcessHandle);
}

# Runs permitted programs for a shell, in the shell's session, with grants
# the shell names from what it holds. The child's "console" is an endpoint
# the shell serves (its stdio), never the terminal itself.
interface ProgramLauncher @0x953025f9fd322d95 {
  run @0 (binary :Text, grants :List(CapGrant), args :Text, context :SessionContext)
      -> (process :ProcessHandle, stdio :Endpoint, error :RunError);
  # error is none when the program runs; otherwise no caps come back.
  programs @1 () -> (names :List(Text), about :List(Text));
  # What run accepts, each with one line about it.
}

enum RunError {
  none @0;
  unknownProgram @1;      # not a program this launcher runs
  reservedGrantName @2;   # "console" is the stdio the launcher makes
  grantRefused @3;        # broad authority, a terminal, an endpoint owner or a launcher
  emptyGrantName @4;
  tooManyGrants @5;       # at most 7
  badGrant @6;            # a name over 23 bytes, or a cap index that is not there
  argsTooLong @7;
  noContext @8;           # the call did not carry the caller's SessionContext
  spawnFailed @9;
}

# A raw Ethernet frame device: what a NIC driver (user/virtio-net) exports
# and the network stack (user/netstack) consumes. Frames travel as Data in
# the call's params and results (CAP_MAX_PARAMS / CAP_MAX_RESULT bytes a
# call, so a batch holds as many frames as fit).
interface Nic @0xe6a869409188ab7b {
  info @0 () -> (mac :Data, mtu :UInt32, linkUp :Bool);
  # The 6-byte MAC address, the largest frame payload (1500 for Ethernet)
  # and whether the link is up.
  send @1 (frames :List(Data)) -> (sent :UInt32);
  # Queue these frames (each a whole Ethernet frame without FCS, 14 to
  # 1514 bytes) for transmission; `sent` is how many were taken, in order:
  # fewer when the transmit ring is full (back-pressure, never a drop).
  receive @2 (maxFrames :UInt32, maxBytes :UInt32) -> (frames :List(Data));
  # Wait until at least one frame has arrived, then answer with up to
  # maxFrames of them in arrival order, no more than maxBytes in all.
  counters @3 () -> (counters :NicCounters);
}

struct NicCounters @0xc6f1aacb4a154880 {
  rxFrames @0 :UInt64;
  txFrames @1 :UInt64;
  rxBytes @2 :UInt64;
  txBytes @3 :UInt64;
  rxDropped @4 :UInt64;   # arrived while every receive buffer was full
  txFull @5 :UInt64;      # frames refused because the transmit ring was full
  linkChanges @6 :UInt64;
}

# ---- Networking: the network-stack process (user/netstack) ----
# Addresses are IPv4 in host byte order (10.0.0.1 = 0x0a000001). Every call
# that can fail for a network reason answers a NetError (never a generic
# failure); a malformed call still fails with CAP_ERR_INVALID_ARGUMENT.

enum NetError {
  none @0;
  badArgument @1;        # port 0, an empty send, an unknown address family of call
  portInUse @2;          # another listener or UDP socket has the port
  noResources @3;        # a fixed table (sockets, listeners, UDP ports) is full
  connectionRefused @4;  # the peer answered the SYN with RST (or ICMP unreachable)
  connectionReset @5;    # the peer reset the connection
  timedOut @6;           # retransmissions or keep-alive gave up
  notConnected @7;       # the connection is not established (yet, or any more)
  closed @8;             # send after shutdown(write), or a call on a closed socket
  noRoute @9;            # no address configured, or the destination is unreachable
  authorityUsed @10;     # this TcpListenAuthority's listener is still open (one at a time:
                         # once it is closed or its holder is gone, it may make another)
  portNotGranted @11;    # a TcpListenAuthority asked for a port it does not name
  busy @12;              # a call of the same kind is already waiting on this socket
  notConfigured @13;     # DHCP has not bound an address yet
}

struct NetConfig @0xbceedd9ad5da0f0e {
  dhcp @0 :Bool;           # the address comes from DHCP
  address @1 :UInt32;      # the address in use (0: none yet)
  netmask @2 :UInt32;
  gateway @3 :UInt32;
  dns @4 :UInt32;          # from the DHCP lease (0: none)
  leaseSeconds @5 :UInt32; # the DHCP lease's length (0: static)
  bound @6 :Bool;          # an address is in use (static, or a DHCP lease)
  mac @7 :Data;
}

# The network stack's own counters (leak accounting in tests: the tables
# go back to zero when clients release what they hold).
struct NetCounters @0xde1834d8a2439986 {
  rxFrames @0 :UInt64;
  txFrames @1 :UInt64;
  txDropped @2 :UInt64;      # frames dropped because the NIC's queue stayed full
  tcpSockets @3 :UInt32;     # TcpSocket handles clients hold now
  tcpListeners @4 :UInt32;   # TcpListener handles clients hold now
  udpSockets @5 :UInt32;     # UdpSocket handles clients hold now
  deferredCalls @6 :UInt32;  # client calls waiting (recv, send, accept) now
  connections @7 :UInt32;    # lib/net connection blocks in use (any state, TIME_WAIT too)
  reclaimed @8 :UInt64;      # handles freed because their holder was gone
  tcpActiveOpens @9 :UInt64;
  tcpPassiveOpens @10 :UInt64;
  tcpRetransmits @11 :UInt64;
  tcpRstTx @12 :UInt64;
  tcpRstRx @13 :UInt64;
  udpRx @14 :UInt64;
  udpTx @15 :UInt64;
  drops @16 :UInt64;         # every lib/net drop counter, summed
  refused @17 :UInt64;       # calls answered with a NetError other than none
}

struct NetConnection @0xc2b57e0cc7a8149d {
  localPort @0 :UInt16;
  remoteAddress @1 :UInt32;
  remotePort @2 :UInt16;
  state @3 :Text;            # RFC 9293 state name (ESTABLISHED, TIME_WAIT...)
  held @4 :Bool;             # a client holds a TcpSocket for it
  sendQueued @5 :UInt32;     # bytes not yet acknowledged by the peer
  recvQueued @6 :UInt32;     # bytes received, not yet read by the client
}

# Configures the stack and opens sockets: the broad network authority.
interface NetworkManager @0xf3af98751c04fe71 {
  getConfig @0 () -> (config :NetConfig);
  configure @1 (dhcp :Bool, address :UInt32, netmask :UInt32, gateway :UInt32) -> (error :NetError);
  # A static address (dhcp false) or DHCP (the other fields ignored).
  connect @2 (address :UInt32, port :UInt16) -> (socket :TcpSocket, error :NetError);
  # Answers once the connection is established or has failed.
  listen @3 (port :UInt16, backlog :UInt16) -> (listener :TcpListener, error :NetError);
  udpBind @4 (port :UInt16) -> (socket :UdpSocket, error :NetError);
  info @5 () -> (info :NetworkInfo);
  # A read-only view of the same stack.
}

# Read-only: what the stack is doing, for anyone allowed to look.
interface NetworkInfo @0xf21a959c839f6917 {
  getConfig @0 () -> (config :NetConfig);
  counters @1 () -> (counters :NetCounters);
  connections @2 () -> (list :List(NetConnection));
  # Every connection block in use (at most 64 listed).
  counter @3 (name :Text) -> (value :UInt64, known :Bool);
  # One of lib/net's own counters by its name (drop_ip_checksum...).
}

# Listens on exactly one port, exactly once: the first listen on the port
# it names makes a TcpListener; any later listen answers authorityUsed,
# another port portNotGranted (even before the first use).
interface TcpListenAuthority @0xb0833ab6f5663fb4 {
  listen @0 (port :UInt16, backlog :UInt16) -> (listener :TcpListener, error :NetError);
  port @1 () -> (port :UInt16, used :Bool);
}

# A listening port. Released (or its holder gone): the port is free again
# and connections never accepted are reset.
interface TcpListener @0xc72d32abc4eea910 {
  accept @0 () -> (socket :TcpSocket, error :NetError);
  # Waits until a connection is established.
  close @1 () -> ();
}

# One TCP connection. Each socket has a bounded send and receive buffer in
# the stack; send waits while its own buffer is full (no other socket
# waits for it), recv waits until data or end of stream. At most one send
# and one recv wait per socket at a time (another answers busy).
interface TcpSocket @0x9abc5b191413ae67 {
  send @0 (data :Data) -> (sent :UInt32, error :NetError);
  # sent: how many bytes were taken (at least 1 unless error).
  recv @1 (maxBytes :UInt32) -> (data :Data, eof :Bool, error :NetError);
  # eof: the peer shut down its side and everything has been read. Up to
  # maxBytes come back (the stack's bound per call: 16188), so the caller's
  # result buffer needs room for maxBytes and about 64 bytes of framing.
  shutdown @2 (read :Bool, write :Bool) -> (error :NetError);
  # write: send FIN after the queued data (half-close); recv still works.
  close @3 (abort :Bool) -> (error :NetError);
  # Orderly close (RST if unread data remains), or abort: RST now. The
  # handle is gone afterwards (calls answer closed).
  peer @4 () -> (address :UInt32, port :UInt16, localPort :UInt16);
}

interface UdpSocket @0xad2ee0833aaa7a04 {
  sendTo @0 (address :UInt32, port :UInt16, data :Data) -> (error :NetError);
  recvFrom @1 (maxBytes :UInt32) -> (address :UInt32, port :UInt16, data :Data, error :NetError);
  # Waits for a datagram (a bounded queue per socket; the oldest is dropped when full).
  close @2 () -> ();
}

# ICMP echo through the stack, and nothing else: no socket, no
# configuration, no other protocol. The holder names the echo's id and seq
# and how many payload bytes it carries (at most 1024); the call waits for
# the matching reply, at most 1 s (answered false: no reply in time). Bounded
# over all holders of the stack: at most 4 echoes wait at once and at most 10
# start in any second; more answer busy.
interface IcmpEcho @0xc53c8b21041ebe2d {
  echo @0 (address :UInt32, id :UInt16, seq :UInt16, size :UInt16) -> (answered :Bool, rttMicros :UInt32, error :NetError);
}

# ---- agent mode: a language model proposes, the shell decides ----
# The model service gets prompts and tool descriptors and answers with text
# and structured tool calls; it never holds a cap, the terminal, a launcher,
# a token or a secret. The shell runs (or refuses) every call and sends the
# outcome back as a ToolResult. A turn is streamed in bounded batches: turn
# answers the first, next the following ones (with the results of the calls
# of the batch before), until done; cancel ends it.
interface LanguageModel @0xd3c2e0a9b1f47a55 {
  info @0 () -> (info :ModelInfo);
  turn @1 (messages :List(ChatMessage), tools :List(ToolDescriptor)) -> (turn :UInt32, events :List(ModelEvent), done :Bool);
  # At most 8 messages and 16 tools, in one call's params (4 KiB); events: at most 8 a batch.
  next @2 (turn :UInt32, results :List(ToolResult)) -> (events :List(ModelEvent), done :Bool);
  cancel @3 (turn :UInt32, results :List(ToolResult)) -> ();
}

struct ModelInfo {
  name @0 :Text;
  version @1 :Text;
  maxTurnBytes @2 :UInt32;        # params of one turn, at most
  maxEventsPerBatch @3 :UInt32;
}

struct ChatMessage {
  role @0 :Text;                  # user, assistant
  text @1 :Text;
}

# A tool as the model is shown it, with hints shaped like MCP tool
# annotations. Forbidden tools are never shown.
struct ToolDescriptor {
  name @0 :Text;
  title @1 :Text;
  description @2 :Text;
  inputSchema @3 :Text;           # a JSON Schema object
  readOnly @4 :Bool;
  destructive @5 :Bool;
  idempotent @6 :Bool;
  openWorld @7 :Bool;
}

enum PermissionMode {
  forbidden @0;                   # never shown, refused
  auto @1;                        # runs
  consent @2;                     # asks on the terminal (y/N)
  stepUp @3;                      # asks for the password again
}

struct ModelEvent {
  text @0 :Text;                  # a text delta (shown, never executed), or empty
  isCall @1 :Bool;
  call @2 :ToolCall;
}

struct ToolCall {
  id @0 :UInt32;
  name @1 :Text;
  arguments @2 :Text;             # a JSON object; at most 512 bytes
}

enum ToolStatus {
  ok @0;
  denied @1;
  cancelled @2;
  failed @3;
  timedOut @4;
}

struct ToolResult {
  id @0 :UInt32;
  status @1 :ToolStatus;
  reason @2 :Text;                # a reason code (forbidden, refused, unknown-tool, bad-arguments...)
  content @3 :Text;               # bounded: a batch's results fit one call (4 KiB)
}

# ---- Device authority (kernel/cap/device.c and friends) ----
# The kernel knows PCI devices only well enough to mint these caps. Only init
# holds DeviceManager, and it claims exactly the devices its manifest names.
interface DeviceManager @0xa7d2e94c1b3f5a08 {
  claim @0 (vendorId :UInt16, deviceId :UInt16, dmaPages :UInt32)
        -> (mmio :DeviceMmio, dma :DMAPool, irq :Interrupt);
  # The first PCI function with these ids that is not claimed (the three
  # caps of a claim all released: it may be claimed again). NOT_FOUND when
  # none; OVERLOADED when every one is claimed.
}

# The BARs of one device, and its config space: nothing else.
interface DeviceMmio @0xc5e81f2a9d4b7036 {
  info @0 () -> (vendorId :UInt16, deviceId :UInt16, bus :UInt8, slot :UInt8, func :UInt8,
                 barSizes :List(UInt64));
  # barSizes[i]: the size of memory BAR i (0: absent, I/O, or the upper half
  # of a 64-bit BAR).
  map @1 (bar :UInt8) -> (addr :UInt64, size :UInt64);
  # Map memory BAR `bar` into the caller, uncached, read/write, never
  # executable. Pages holding the MSI-X table or PBA stay unmapped (the
  # kernel programs them: see Interrupt). Mapping a BAR again answers the
  # same address. The first process to map owns the mappings.
  readConfig @2 (offset :UInt16, width :UInt8) -> (value :UInt32);
  # Config space of this device only: offset < 256, width 1, 2 or 4, aligned.
}

# DMA-able pages for one device, up to a page quota.
interface DMAPool @0x9e4f7b2c6a1d8e53 {
  alloc @0 () -> (addr :UInt64, deviceAddr :UInt64);
  # One zeroed 4 KiB page mapped read/write into the caller at addr; the
  # device reaches it at deviceAddr (physical: there is no IOMMU).
  # OVERLOADED past the quota.
  quota @1 () -> (used :UInt32, limit :UInt32);
}

# The device's interrupt (MSI-X table entry 0, programmed by the kernel).
interface Interrupt @0xb8c3d6e1f0a29475 {
  wait @0 () -> (count :UInt32);
  # Completes once the interrupt has fired since the last wait; `count` is
  # how often. The entry is masked from the first firing until ack.
  ack @1 () -> ();
  # Unmask the entry (a firing held while masked is then delivered).
}

# An SSH host key held by a key service (user/hostkey): the private bytes
# never leave it. The only use of the key is signing an SSH exchange hash
# (32 bytes); the SSH gateway holds this cap and nothing that reads the key.
interface SshHostKey @0xd3a1c6b58e2f7049 {
  publicKey @0 () -> (key :Data, fingerprint :Text);
  # key: the raw 32-byte Ed25519 public key; fingerprint: "SHA256:..." as
  # ssh-keygen -l prints it.
  signExchangeHash @1 (hash :Data) -> (signature :Data);
  # hash: exactly 32 bytes; signature: the 64-byte pure Ed25519 signature.
}

# A TLS server key held by a key service (user/tlskey): the private key
# never leaves it. The certificate chain is public; the only use of the key
# is signing the hash of a TLS 1.2 ServerKeyExchange (ECDHE parameters);
# the web shell gateway holds this cap and nothing that reads the key.
enum TlsHash {
  sha256 @0;
  sha384 @1;
  sha512 @2;
}

interface TlsServerKey @0xd42da03e7aa55fd5 {
  certificateChain @0 () -> (chain :List(Data), development :Bool);
  # chain: the DER certificates, the server's own first; its key is ECDSA
  # P-256. development: the build's development key (its private half is
  # in the build tree): NOT FOR PRODUCTION.
  sign @1 (hash :TlsHash, digest :Data) -> (signature :Data);
  # digest: exactly the hash's length (32, 48 or 64 bytes), else
  # invalidArgument; signature: ECDSA over it, DER (ASN.1) encoded as TLS
  # carries it (at most 72 bytes).
}

# ---- Storage (user/virtio-blk, user/store) ----
# A disk of fixed-size sectors: what a block driver (user/virtio-blk)
# exports and the store (user/store) consumes. Data travels in the call's
# params and results, so one call moves at most maxSectors sectors (info).
enum BlockError {
  none @0;
  outOfRange @1;      # a sector past the end of the disk (nothing was done)
  badArgument @2;     # count 0 or above maxSectors, data not whole sectors
  ioError @3;         # the device reported an error
  unsupported @4;     # the device cannot do this (flush without the feature)
}

interface BlockDevice @0xd861330a0a8fe3ba {
  info @0 () -> (sectors :UInt64, sectorSize :UInt32, maxSectors :UInt32, flush :Bool);
  # The disk's size in sectors, the sector size (512), the most sectors one
  # read or write moves, and whether flush reaches stable storage.
  read @1 (sector :UInt64, count :UInt32) -> (data :Data, error :BlockError);
  write @2 (sector :UInt64, data :Data) -> (error :BlockError);
  # Answers once the device has completed the write (not yet durable: flush).
  flush @3 () -> (error :BlockError);
  # Answers once every completed write is on stable storage.
}

# The store (user/store, format in lib/store): one Store cap per namespace.
# Each export of the store service is a namespace named like the export;
# the manifest grants each client service its own, and a cap reaches only
# the keys of its namespace.
enum StoreError {
  none @0;
  notFound @1;
  tooBig @2;          # a key over 64 bytes, a value over 1024, a commit over 64 ops or 7896 bytes
  full @3;            # the disk (or the key table) has no room: nothing was written
  failed @4;          # a write failed: the store takes no more commits until restarted
  corrupt @5;         # the disk's contents are damaged (the store's log says where)
  badArgument @6;     # an empty key
  ioError @7;         # the disk failed a read
}

struct StoreOp @0xce471ef6bb7c08a1 {
  key @0 :Data;
  value @1 :Data;
  delete @2 :Bool;    # remove key (value ignored)
}

interface Store @0x95220215056d17f9 {
  get @0 (key :Data) -> (value :Data, error :StoreError);
  commit @1 (ops :List(StoreOp)) -> (error :StoreError);
  # All the ops or none; answers none once they are on stable storage.
  list @2 (cursor :UInt32) -> (keys :List(Data), cursor :UInt32);
  # The namespace's keys, some at a time: start at cursor 0, call again
  # with the answer's cursor until it is 0.
  info @3 () -> (keys :UInt32, commits :UInt64, freeSectors :UInt64, state :StoreError);
  # keys in this namespace; commits replayed and made since boot across all
  # namespaces; state: none, or why the store refuses calls.
}

# Remote session CapSet (remote-session-capset-gateway, TCP port 2327):
# standard Cap'n Proto two-party RPC, so any capnp-rpc implementation is a
# client. The connection's bootstrap is a RemoteAdmission; a login answers a
# RemoteCapSet: the caps the broker grants the session, by name.
interface RemoteAdmission @0x80808d0def36dd68 {
  login @0 (principal :Text, password :Data) -> (result :LoginResult, capSet :RemoteCapSet,
                                                 retryAfterMs :UInt64);
  # Password login (Argon2id, through SessionManager). capSet is null unless ok.
  challenge @1 () -> (nonce :Data);
  # 32 fresh bytes for keyLogin (one outstanding per connection).
  keyLogin @2 (principal :Text, publicKey :Data, signature :Data) -> (result :LoginResult,
                                                                      capSet :RemoteCapSet);
  # Ed25519 (32-byte publicKey) signature over "capos-remote-key-v1" || nonce,
  # checked against the principal's authorized keys by SessionManager.
}

interface RemoteCapSet @0xba7a07a214fa9b33 {
  list @0 () -> (entries :List(RemoteCapEntry));
  get @1 (name :Text) -> (cap :Capability);
  # Fails (exception `unknown-cap`) when no entry has that name.
}

struct RemoteCapEntry {
  name @0 :Text;
  interfaceId @1 :UInt64;
  description @2 :Text;
}

# Read-only facts about the running system.
interface SystemInfo @0xf3fb10e3bf03f343 {
  get @0 () -> (uptimeNs :UInt64, kernelVersion :Text, buildVersion :Text,
                freeFrames :UInt64, heapBytes :UInt64, processes :UInt32, capSlots :UInt64);
}
