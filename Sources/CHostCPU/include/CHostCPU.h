// Placeholder; replaced by the host-CPU runner.
#pragma once
int hostcpu_available(void);
