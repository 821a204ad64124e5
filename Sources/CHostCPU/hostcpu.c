#include "CHostCPU.h"
int hostcpu_available(void) {
#if defined(__x86_64__)
    return 1;
#else
    return 0;
#endif
}
