/* Reading an unencrypted OpenSSH ed25519 private key (ssh-keygen's
 * "openssh-key-v1" format, PROTOCOL.key). */
#ifndef SSHKEY_H
#define SSHKEY_H

#include <stddef.h>
#include <stdint.h>

/* sk: libsodium's 64-byte secret key (seed || public), pk: the public key.
 * Returns 0, or -1 with a message in err. */
int sshkey_load_ed25519(const char *path, uint8_t sk[64], uint8_t pk[32], char *err, size_t errlen);

#endif
