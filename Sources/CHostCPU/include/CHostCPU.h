// CHostCPU: runs a user-mode x86-64 byte sequence natively on the host processor
// and returns the final register state: the oracle of the differential tests.
//
// Memory layout (fixed, so the processor model can map the same bytes at the
// same linear addresses):
//   code area  HOSTCPU_CODE_ADDRESS .. +HOSTCPU_CODE_SIZE  (read/write/execute)
//   data area  HOSTCPU_DATA_ADDRESS .. +HOSTCPU_DATA_SIZE  (read/write; also the stack)
// The sequence is copied to the start of the code area and followed by a
// jump back into the runner (64-bit: 14-byte `jmp qword [rip+0]`; 32/16-bit: a
// far jump to a 64-bit trampoline at the end of the code area), which touches no
// register, flag or data byte.
//
// Register arrays are 18 x uint64_t: [0..15] = RAX RCX RDX RBX RSP RBP RSI RDI
// R8..R15 (encoding order), [16] = RIP, [17] = RFLAGS.
//
// Only x86-64 Linux runs code; elsewhere hostcpu_available() returns 0 and
// hostcpu_run() returns -1.
#pragma once
#include <stddef.h>
#include <stdint.h>

#define HOSTCPU_CODE_ADDRESS 0x10000000ULL
#define HOSTCPU_CODE_SIZE    0x10000ULL
#define HOSTCPU_DATA_ADDRESS 0x10010000ULL
#define HOSTCPU_DATA_SIZE    0x10000ULL
/// Bytes reserved after the code for the jump back into the runner.
#define HOSTCPU_TRAILER_SIZE 14
/// Bytes reserved at the end of the code area (a 64-bit trampoline back into the runner and the far
/// pointer to it, used by 32- and 16-bit sequences).
#define HOSTCPU_RESERVED_TAIL 32
/// The longest sequence.
#define HOSTCPU_MAX_CODE (HOSTCPU_CODE_SIZE - HOSTCPU_RESERVED_TAIL - HOSTCPU_TRAILER_SIZE)

/// RFLAGS bits a user-mode caller may set on entry (CF PF AF ZF SF DF OF).
#define HOSTCPU_SETTABLE_FLAGS 0xCD5ULL

/// Details of how a run ended.
typedef struct hostcpu_fault {
    /// 0 = reached the end of the sequence, 1 = exception, -1 = runner unavailable / bad input.
    int32_t status;
    /// Exception vector (0 #DE, 1 #DB, 3 #BP, 6 #UD, 12 #SS, 13 #GP, 14 #PF, 17 #AC, ...).
    int32_t vector;
    /// The host signal that reported it, and its si_code.
    int32_t signal;
    int32_t si_code;
    /// The exception error code (the kernel's view; #PF has the U/S bit set) and, for #PF, CR2.
    uint64_t error_code;
    uint64_t fault_address;
} hostcpu_fault;

/// 1 when native runs are possible (x86-64 Linux and the fixed areas could be mapped).
int hostcpu_available(void);

/// Runs `code_len` bytes of code (at most HOSTCPU_CODE_SIZE - HOSTCPU_TRAILER_SIZE)
/// with registers `in_regs` (RIP is ignored: execution starts at the code
/// address; only HOSTCPU_SETTABLE_FLAGS of RFLAGS are used) and the data area
/// initialised from `data_in` (HOSTCPU_DATA_SIZE bytes, or zeros if NULL).
/// On return `out_regs` holds the final registers (on an exception: the
/// registers at the fault, RIP = the faulting instruction for faults), and
/// `data_out` (if not NULL) the data area. Returns fault->status.
/// Serialised by an internal lock; callable from any thread.
int hostcpu_run(const uint8_t *code, size_t code_len, const uint64_t *in_regs,
                const uint8_t *data_in, uint8_t *data_out, uint64_t *out_regs,
                hostcpu_fault *fault);

/// 1 when sequences of `mode` (64, 32, 16 or 17) can run: 64 and 32 when hostcpu_available(); 16 and 17 also need
/// modify_ldt(2) to have accepted the runner's 16-bit code and data segments.
int hostcpu_mode_available(int mode);

/// hostcpu_run for a code-segment mode: 64 (64-bit user code segment 0x33, entry at HOSTCPU_CODE_ADDRESS),
/// 32 (compatibility mode: the 32-bit user code segment 0x23, flat DS/ES/SS 0x2B, entry at
/// HOSTCPU_CODE_ADDRESS) or 16 (a 16-bit LDT code segment based at HOSTCPU_CODE_ADDRESS, limit 0xFFFF,
/// entry at offset 0; DS/ES/SS a 16-bit data segment based at HOSTCPU_DATA_ADDRESS, limit 0xFFFF, B=0),
/// or 17 (16-bit code as 16, with SS the same data segment but B=1: a 32-bit stack).
/// Register values and RIP are as the processor holds them (RIP: the offset in CS).
int hostcpu_run_mode(int mode, const uint8_t *code, size_t code_len, const uint64_t *in_regs,
                     const uint8_t *data_in, uint8_t *data_out, uint64_t *out_regs,
                     hostcpu_fault *fault);

/// CPUID on the host; returns 0 (and zeros) where unavailable.
int hostcpu_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t *out4);

/// Fills `len` bytes with SplitMix64 output derived from `seed` (fast in any build mode).
void hostcpu_fill_random(uint8_t *buf, size_t len, uint64_t seed);
