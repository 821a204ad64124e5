// Native runner for user-mode x86-64 sequences. See include/CHostCPU.h.
//
// How it works (x86-64 Linux):
//  * The code area (RWX) and data area (RW) are mapped once at fixed addresses
//    with MAP_FIXED_NOREPLACE.
//  * hc_enter (assembly below) pushes the host's callee-saved registers, keeps
//    the host RSP in hc_host_rsp, loads RFLAGS (popfq) and the 16 GPRs from
//    hc_in with RIP-relative moves, and jumps to the code area.
//  * The sequence ends with `jmp qword [rip+0]; .quad hc_return`; hc_return
//    stores the 16 GPRs RIP-relatively, switches back to the host stack, stores
//    RFLAGS, clears DF and returns 0.
//  * A fault raises SIGFPE/SIGILL/SIGSEGV/SIGBUS/SIGTRAP; the handler (on an
//    alternate signal stack, since the guest RSP is arbitrary) copies the
//    ucontext registers, then rewrites the ucontext so sigreturn resumes at
//    hc_fault_resume on the host stack, which returns 1. No fork, no longjmp.
#define _GNU_SOURCE
#include "CHostCPU.h"
#include <string.h>

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void hostcpu_fill_random(uint8_t *buf, size_t len, uint64_t seed) {
    uint64_t s = seed;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t v = splitmix(&s);
        memcpy(buf + i, &v, 8);
    }
    if (i < len) {
        uint64_t v = splitmix(&s);
        memcpy(buf + i, &v, len - i);
    }
}

#if defined(__x86_64__) && defined(__linux__)

#include <cpuid.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

// Shared with the assembly (hidden, so RIP-relative references are link-time constants).
__attribute__((visibility("hidden"), used)) uint64_t hc_in[18];
__attribute__((visibility("hidden"), used)) uint64_t hc_out[18];
__attribute__((visibility("hidden"), used)) uint64_t hc_host_rsp;
__attribute__((visibility("hidden"), used)) uint64_t hc_entry;

extern int hc_enter(void) __attribute__((visibility("hidden")));
extern char hc_return[] __attribute__((visibility("hidden")));
extern char hc_fault_resume[] __attribute__((visibility("hidden")));

__asm__(
    ".text\n"
    ".p2align 4\n"
    ".globl hc_enter\n.hidden hc_enter\n.type hc_enter,@function\n"
    "hc_enter:\n"
    "  pushq %rbx\n  pushq %rbp\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
    "  movq %rsp, hc_host_rsp(%rip)\n"
    "  pushq hc_in+136(%rip)\n"
    "  popfq\n"
    "  movq hc_in+0(%rip), %rax\n"
    "  movq hc_in+8(%rip), %rcx\n"
    "  movq hc_in+16(%rip), %rdx\n"
    "  movq hc_in+24(%rip), %rbx\n"
    "  movq hc_in+32(%rip), %rsp\n"
    "  movq hc_in+40(%rip), %rbp\n"
    "  movq hc_in+48(%rip), %rsi\n"
    "  movq hc_in+56(%rip), %rdi\n"
    "  movq hc_in+64(%rip), %r8\n"
    "  movq hc_in+72(%rip), %r9\n"
    "  movq hc_in+80(%rip), %r10\n"
    "  movq hc_in+88(%rip), %r11\n"
    "  movq hc_in+96(%rip), %r12\n"
    "  movq hc_in+104(%rip), %r13\n"
    "  movq hc_in+112(%rip), %r14\n"
    "  movq hc_in+120(%rip), %r15\n"
    "  jmp *hc_entry(%rip)\n"
    ".p2align 4\n"
    ".globl hc_return\n.hidden hc_return\n"
    "hc_return:\n"
    "  movq %rax, hc_out+0(%rip)\n"
    "  movq %rcx, hc_out+8(%rip)\n"
    "  movq %rdx, hc_out+16(%rip)\n"
    "  movq %rbx, hc_out+24(%rip)\n"
    "  movq %rsp, hc_out+32(%rip)\n"
    "  movq %rbp, hc_out+40(%rip)\n"
    "  movq %rsi, hc_out+48(%rip)\n"
    "  movq %rdi, hc_out+56(%rip)\n"
    "  movq %r8, hc_out+64(%rip)\n"
    "  movq %r9, hc_out+72(%rip)\n"
    "  movq %r10, hc_out+80(%rip)\n"
    "  movq %r11, hc_out+88(%rip)\n"
    "  movq %r12, hc_out+96(%rip)\n"
    "  movq %r13, hc_out+104(%rip)\n"
    "  movq %r14, hc_out+112(%rip)\n"
    "  movq %r15, hc_out+120(%rip)\n"
    "  movq hc_host_rsp(%rip), %rsp\n"
    "  pushfq\n"
    "  popq hc_out+136(%rip)\n"
    "  cld\n"
    "  xorl %eax, %eax\n"
    "  jmp 1f\n"
    ".globl hc_fault_resume\n.hidden hc_fault_resume\n"
    "hc_fault_resume:\n"
    "  movl $1, %eax\n"
    "1:\n"
    "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbp\n  popq %rbx\n"
    "  ret\n"
    ".size hc_enter, .-hc_enter\n");

static pthread_mutex_t hc_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t hc_once = PTHREAD_ONCE_INIT;
static int hc_ready;
static volatile sig_atomic_t hc_active;
static volatile pid_t hc_tid;
static hostcpu_fault hc_fault_info;
static __thread int hc_altstack_ready;
static __thread pid_t hc_my_tid;

static const int hc_signals[] = {SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGTRAP};
static struct sigaction hc_old_actions[5];

static int hc_vector_from_signal(int sig, const siginfo_t *si) {
    switch (sig) {
    case SIGFPE: return 0;
    case SIGILL: return 6;
    case SIGTRAP: return si->si_code == TRAP_BRKPT || si->si_code == SI_KERNEL ? 3 : 1;
    case SIGBUS: return 17;
    default: return si->si_code == SEGV_MAPERR || si->si_code == SEGV_ACCERR ? 14 : 13;
    }
}

static void hc_handler(int sig, siginfo_t *si, void *context) {
    ucontext_t *uc = (ucontext_t *)context;
    greg_t *g = uc->uc_mcontext.gregs;
    if (!hc_active || (pid_t)syscall(SYS_gettid) != hc_tid) {
        // Not ours: restore the previous disposition and let the fault recur there.
        for (int i = 0; i < 5; i++) {
            if (hc_signals[i] == sig) sigaction(sig, &hc_old_actions[i], NULL);
        }
        return;
    }
    static const int order[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP,
                                  REG_RSI, REG_RDI, REG_R8,  REG_R9,  REG_R10, REG_R11,
                                  REG_R12, REG_R13, REG_R14, REG_R15};
    for (int i = 0; i < 16; i++) hc_out[i] = (uint64_t)g[order[i]];
    hc_out[16] = (uint64_t)g[REG_RIP];
    hc_out[17] = (uint64_t)g[REG_EFL];
    long trapno = (long)g[REG_TRAPNO];
    int vector = hc_vector_from_signal(sig, si);
    // The kernel records the hardware vector; prefer it when it is plausible.
    if (trapno >= 0 && trapno < 32 && (sig != SIGTRAP || trapno == 1 || trapno == 3)) vector = (int)trapno;
    hc_fault_info.status = 1;
    hc_fault_info.vector = vector;
    hc_fault_info.signal = sig;
    hc_fault_info.si_code = si->si_code;
    hc_fault_info.error_code = (uint64_t)g[REG_ERR];
    hc_fault_info.fault_address = vector == 14 ? (uint64_t)g[REG_CR2] : (uint64_t)(uintptr_t)si->si_addr;
    // Resume the host: sigreturn continues at hc_fault_resume on the host stack, DF/TF clear.
    g[REG_RIP] = (greg_t)(uintptr_t)hc_fault_resume;
    g[REG_RSP] = (greg_t)hc_host_rsp;
    g[REG_EFL] = 0x202;
}

static void hc_init(void) {
    void *code = mmap((void *)(uintptr_t)HOSTCPU_CODE_ADDRESS, HOSTCPU_CODE_SIZE,
                      PROT_READ | PROT_WRITE | PROT_EXEC,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (code != (void *)(uintptr_t)HOSTCPU_CODE_ADDRESS) {
        if (code != MAP_FAILED) munmap(code, HOSTCPU_CODE_SIZE);
        return;
    }
    void *data = mmap((void *)(uintptr_t)HOSTCPU_DATA_ADDRESS, HOSTCPU_DATA_SIZE,
                      PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (data != (void *)(uintptr_t)HOSTCPU_DATA_ADDRESS) {
        if (data != MAP_FAILED) munmap(data, HOSTCPU_DATA_SIZE);
        munmap(code, HOSTCPU_CODE_SIZE);
        return;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = hc_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 5; i++) sigaction(hc_signals[i], &sa, &hc_old_actions[i]);
    hc_ready = 1;
}

static int hc_ensure_thread(void) {
    if (hc_altstack_ready) return 1;
    size_t size = 64 * 1024;
    void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return 0;
    stack_t ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_sp = mem;
    ss.ss_size = size;
    if (sigaltstack(&ss, NULL) != 0) { munmap(mem, size); return 0; }
    hc_my_tid = (pid_t)syscall(SYS_gettid);
    hc_altstack_ready = 1;
    return 1;
}

int hostcpu_available(void) {
    pthread_once(&hc_once, hc_init);
    return hc_ready;
}

int hostcpu_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t *out4) {
    unsigned a = 0, b = 0, c = 0, d = 0;
    __cpuid_count(leaf, subleaf, a, b, c, d);
    out4[0] = a; out4[1] = b; out4[2] = c; out4[3] = d;
    return 1;
}

int hostcpu_run(const uint8_t *code, size_t code_len, const uint64_t *in_regs,
                const uint8_t *data_in, uint8_t *data_out, uint64_t *out_regs,
                hostcpu_fault *fault) {
    hostcpu_fault local;
    if (!fault) fault = &local;
    memset(fault, 0, sizeof *fault);
    fault->status = -1;
    if (!hostcpu_available() || code_len > HOSTCPU_CODE_SIZE - HOSTCPU_TRAILER_SIZE) return -1;
    pthread_mutex_lock(&hc_lock);
    if (!hc_ensure_thread()) { pthread_mutex_unlock(&hc_lock); return -1; }
    uint8_t *codeArea = (uint8_t *)(uintptr_t)HOSTCPU_CODE_ADDRESS;
    memcpy(codeArea, code, code_len);
    // jmp qword [rip+0] ; .quad hc_return
    static const uint8_t jmp[6] = {0xFF, 0x25, 0, 0, 0, 0};
    memcpy(codeArea + code_len, jmp, 6);
    uint64_t back = (uint64_t)(uintptr_t)hc_return;
    memcpy(codeArea + code_len + 6, &back, 8);
    if (data_in) memcpy((void *)(uintptr_t)HOSTCPU_DATA_ADDRESS, data_in, HOSTCPU_DATA_SIZE);
    else memset((void *)(uintptr_t)HOSTCPU_DATA_ADDRESS, 0, HOSTCPU_DATA_SIZE);
    for (int i = 0; i < 16; i++) hc_in[i] = in_regs[i];
    hc_in[16] = HOSTCPU_CODE_ADDRESS;
    hc_in[17] = (in_regs[17] & HOSTCPU_SETTABLE_FLAGS) | 0x202;
    hc_entry = HOSTCPU_CODE_ADDRESS;
    hc_fault_info.status = 0;
    hc_tid = hc_my_tid;
    // The sequence may leave x87 registers full, change the x87 control word or MXCSR (rounding, FTZ/DAZ):
    // save this process's floating-point state and put it back afterwards, whatever the sequence did.
    static uint8_t saved_fp[512] __attribute__((aligned(16)));
    __asm__ volatile("fxsave64 %0" : "=m"(saved_fp) :: "memory");
    hc_active = 1;
    __asm__ volatile("" ::: "memory");
    int r = hc_enter();
    __asm__ volatile("" ::: "memory");
    hc_active = 0;
    __asm__ volatile("fxrstor64 %0" :: "m"(saved_fp) : "memory");
    if (r == 0) {
        hc_out[16] = HOSTCPU_CODE_ADDRESS + code_len;
        memset(fault, 0, sizeof *fault);
    } else {
        *fault = hc_fault_info;
    }
    for (int i = 0; i < 18; i++) out_regs[i] = hc_out[i];
    if (data_out) memcpy(data_out, (void *)(uintptr_t)HOSTCPU_DATA_ADDRESS, HOSTCPU_DATA_SIZE);
    pthread_mutex_unlock(&hc_lock);
    return fault->status;
}

#else

int hostcpu_available(void) { return 0; }

int hostcpu_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t *out4) {
    (void)leaf; (void)subleaf;
    out4[0] = out4[1] = out4[2] = out4[3] = 0;
    return 0;
}

int hostcpu_run(const uint8_t *code, size_t code_len, const uint64_t *in_regs,
                const uint8_t *data_in, uint8_t *data_out, uint64_t *out_regs,
                hostcpu_fault *fault) {
    (void)code; (void)code_len; (void)in_regs; (void)data_in; (void)data_out; (void)out_regs;
    if (fault) { memset(fault, 0, sizeof *fault); fault->status = -1; }
    return -1;
}

#endif
