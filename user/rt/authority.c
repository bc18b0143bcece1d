/*
 * Which interfaces are broad authority: what no shell, and nothing a shell
 * starts, may be handed (spawners, factories of endpoints or sessions, the
 * session path's own services, power and the boot package). The restricted
 * launchers refuse any of these, whatever asks for it.
 */
#include "capos.h"

bool rt_broad_authority(uint64_t iface)
{
    static const uint64_t ids[] = {
        capos_ProcessSpawner_ID, capos_EndpointFactory_ID, capos_SessionAuthority_ID, capos_Power_ID,
        capos_BootPackage_ID, capos_KernelStats_ID, capos_RestrictedShellLauncher_ID, capos_AuthorityBroker_ID,
        capos_SessionManager_ID, capos_CredentialStore_ID, capos_AccountStore_ID, capos_ThreadSpawner_ID,
    };
    for (unsigned i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (ids[i] == iface)
            return true;
    return false;
}
