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
//  * Modes: hc_enter always enters the sequence with a far jump (`ljmp *m16:32`): to the kernel's
//    64-bit user code segment (0x33), its 32-bit one (0x23, compatibility mode), or a 16-bit code
//    segment this runner installs in the process's LDT with modify_ldt(2) (base = the code area,
//    limit 0xFFFF, DPL 3) with DS/ES/SS loaded with a 16-bit data segment (base = the data area,
//    limit 0xFFFF, B=0). Outside 64-bit mode the sequence ends with a far jump through a pointer at
//    the end of the code area to a 64-bit trampoline there, which jumps to hc_return; DS/ES/SS are
//    restored after the run.
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

#include <asm/ldt.h>

// Linux x86-64 user segments (arch/x86/include/asm/segment.h): 64-bit code, 32-bit code, data.
#define HC_USER64_CS 0x33
#define HC_USER32_CS 0x23
#define HC_USER_DS 0x2B
// The LDT entries this runner installs for 16-bit code: index 0 code, index 1 data (TI=1, RPL 3).
#define HC_LDT_CODE16 0x07
#define HC_LDT_DATA16 0x0F
// Index 2: the same data segment with B=1 (a 32-bit stack segment for 16-bit code).
#define HC_LDT_STACK32 0x17
// The 64-bit trampoline and the far pointer to it, at the end of the code area (see the header).
#define HC_TRAMPOLINE_OFFSET (HOSTCPU_CODE_SIZE - HOSTCPU_RESERVED_TAIL)
#define HC_FARPTR_OFFSET (HC_TRAMPOLINE_OFFSET + 16)

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

// Shared with the assembly (hidden, so RIP-relative references are link-time constants).
__attribute__((visibility("hidden"), used)) uint64_t hc_in[18];
__attribute__((visibility("hidden"), used)) uint64_t hc_out[18];
__attribute__((visibility("hidden"), used)) uint64_t hc_host_rsp;
// The far pointer the sequence is entered through: offset (32 bits), selector (16 bits).
__attribute__((visibility("hidden"), used, aligned(8))) uint8_t hc_far_entry[8];
// DS, ES, SS for the run (loaded before entry; the host's are put back after the run).
__attribute__((visibility("hidden"), used)) uint16_t hc_seg_in[3];

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
    "  movw hc_seg_in+0(%rip), %ds\n"
    "  movw hc_seg_in+2(%rip), %es\n"
    "  movw hc_seg_in+4(%rip), %ss\n"
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
    "  ljmpl *hc_far_entry(%rip)\n"
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
static int hc_ldt_ready;
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
    // The fault may come from 32- or 16-bit code: resume in the kernel's 64-bit user code segment with its
    // stack segment (sigcontext: cs bits 0-15, gs 16-31, fs 32-47, ss 48-63; sigreturn restores cs and ss).
    uint64_t csgsfs = (uint64_t)g[REG_CSGSFS];
    csgsfs = (csgsfs & 0x0000FFFFFFFF0000ULL) | HC_USER64_CS | ((uint64_t)HC_USER_DS << 48);
    g[REG_CSGSFS] = (greg_t)csgsfs;
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
    // 16-bit segments in the LDT (modify_ldt func 0x11: write an entry). Without them mode 16 is unavailable.
    struct user_desc code16, data16;
    memset(&code16, 0, sizeof code16);
    code16.entry_number = HC_LDT_CODE16 >> 3;
    code16.base_addr = (unsigned)HOSTCPU_CODE_ADDRESS;
    code16.limit = 0xFFFF;
    code16.contents = 2;   // MODIFY_LDT_CONTENTS_CODE (execute/read)
    code16.useable = 1;
    data16 = code16;
    data16.entry_number = HC_LDT_DATA16 >> 3;
    data16.base_addr = (unsigned)HOSTCPU_DATA_ADDRESS;
    data16.contents = 0;   // MODIFY_LDT_CONTENTS_DATA (read/write, expand-up)
    struct user_desc stack32 = data16;
    stack32.entry_number = HC_LDT_STACK32 >> 3;
    stack32.seg_32bit = 1;
    if (syscall(SYS_modify_ldt, 0x11, &code16, sizeof code16) == 0 &&
        syscall(SYS_modify_ldt, 0x11, &data16, sizeof data16) == 0 &&
        syscall(SYS_modify_ldt, 0x11, &stack32, sizeof stack32) == 0) {
        hc_ldt_ready = 1;
    }
    hc_ready = 1;
}

// The 64-bit trampoline (jmp qword [rip+0]; .quad hc_return) and the m16:32 pointer to it, at the end of the
// code area (written before every 32- or 16-bit run: a 32-bit sequence could have stored over them).
static void hc_write_trampoline(void) {
    uint8_t *code = (uint8_t *)(uintptr_t)HOSTCPU_CODE_ADDRESS;
    uint8_t *tail = code + HC_TRAMPOLINE_OFFSET;
    static const uint8_t jmp[6] = {0xFF, 0x25, 0, 0, 0, 0};
    memcpy(tail, jmp, 6);
    uint64_t back = (uint64_t)(uintptr_t)hc_return;
    memcpy(tail + 6, &back, 8);
    uint32_t trampoline = (uint32_t)(HOSTCPU_CODE_ADDRESS + HC_TRAMPOLINE_OFFSET);
    uint16_t cs64 = HC_USER64_CS;
    memcpy((uint8_t *)code + HC_FARPTR_OFFSET, &trampoline, 4);
    memcpy((uint8_t *)code + HC_FARPTR_OFFSET + 4, &cs64, 2);
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

int hostcpu_mode_available(int mode) {
    if (!hostcpu_available()) return 0;
    switch (mode) {
    case 64: case 32: return 1;
    case 16: case 17: return hc_ldt_ready;
    default: return 0;
    }
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
    return hostcpu_run_mode(64, code, code_len, in_regs, data_in, data_out, out_regs, fault);
}

int hostcpu_run_mode(int mode, const uint8_t *code, size_t code_len, const uint64_t *in_regs,
                     const uint8_t *data_in, uint8_t *data_out, uint64_t *out_regs,
                     hostcpu_fault *fault) {
    hostcpu_fault local;
    if (!fault) fault = &local;
    memset(fault, 0, sizeof *fault);
    fault->status = -1;
    if (!hostcpu_mode_available(mode) || code_len > HOSTCPU_MAX_CODE) return -1;
    pthread_mutex_lock(&hc_lock);
    if (!hc_ensure_thread()) { pthread_mutex_unlock(&hc_lock); return -1; }
    uint8_t *codeArea = (uint8_t *)(uintptr_t)HOSTCPU_CODE_ADDRESS;
    memcpy(codeArea, code, code_len);
    uint32_t entry_offset = (uint32_t)HOSTCPU_CODE_ADDRESS;
    uint16_t entry_cs = HC_USER64_CS, ds, es, ss;
    uint16_t host_ds, host_es, host_ss;
    __asm__ volatile("movw %%ds, %0\n movw %%es, %1\n movw %%ss, %2" : "=r"(host_ds), "=r"(host_es), "=r"(host_ss));
    ds = host_ds; es = host_es; ss = host_ss;
    if (mode == 64) {
        // jmp qword [rip+0] ; .quad hc_return
        static const uint8_t jmp[6] = {0xFF, 0x25, 0, 0, 0, 0};
        memcpy(codeArea + code_len, jmp, 6);
        uint64_t back = (uint64_t)(uintptr_t)hc_return;
        memcpy(codeArea + code_len + 6, &back, 8);
    } else if (mode == 32) {
        hc_write_trampoline();
        // jmp far [disp32] (FF /5, flat DS) through the pointer to the 64-bit trampoline.
        uint32_t ptr = (uint32_t)(HOSTCPU_CODE_ADDRESS + HC_FARPTR_OFFSET);
        codeArea[code_len] = 0xFF;
        codeArea[code_len + 1] = 0x2D;
        memcpy(codeArea + code_len + 2, &ptr, 4);
        entry_cs = HC_USER32_CS;
        ds = es = ss = HC_USER_DS;
    } else {
        hc_write_trampoline();
        // cs: o32 jmp far [disp16] (2E 66 FF /5, 16-bit addressing) through the same pointer (CS offset).
        static const uint8_t far16[6] = {0x2E, 0x66, 0xFF, 0x2E,
                                         (uint8_t)(HC_FARPTR_OFFSET & 0xFF), (uint8_t)(HC_FARPTR_OFFSET >> 8)};
        memcpy(codeArea + code_len, far16, 6);
        entry_offset = 0;
        entry_cs = HC_LDT_CODE16;
        ds = es = ss = HC_LDT_DATA16;
        if (mode == 17) ss = HC_LDT_STACK32;
    }
    memcpy(hc_far_entry, &entry_offset, 4);
    memcpy(hc_far_entry + 4, &entry_cs, 2);
    hc_seg_in[0] = ds; hc_seg_in[1] = es; hc_seg_in[2] = ss;
    if (data_in) memcpy((void *)(uintptr_t)HOSTCPU_DATA_ADDRESS, data_in, HOSTCPU_DATA_SIZE);
    else memset((void *)(uintptr_t)HOSTCPU_DATA_ADDRESS, 0, HOSTCPU_DATA_SIZE);
    for (int i = 0; i < 16; i++) hc_in[i] = in_regs[i];
    hc_in[16] = entry_offset;
    hc_in[17] = (in_regs[17] & HOSTCPU_SETTABLE_FLAGS) | 0x202;
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
    // Back in 64-bit mode: the host's data and stack segments again (their bases do not matter in 64-bit
    // mode, but the next 32-bit run and the kernel expect the usual selectors).
    __asm__ volatile("movw %0, %%ds\n movw %1, %%es\n movw %2, %%ss" :: "r"(host_ds), "r"(host_es), "r"(host_ss));
    hc_active = 0;
    __asm__ volatile("fxrstor64 %0" :: "m"(saved_fp) : "memory");
    if (r == 0) {
        hc_out[16] = (uint64_t)entry_offset + code_len;
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
    return hostcpu_run_mode(64, code, code_len, in_regs, data_in, data_out, out_regs, fault);
}

int hostcpu_mode_available(int mode) { (void)mode; return 0; }

int hostcpu_run_mode(int mode, const uint8_t *code, size_t code_len, const uint64_t *in_regs,
                     const uint8_t *data_in, uint8_t *data_out, uint64_t *out_regs,
                     hostcpu_fault *fault) {
    (void)mode; (void)code; (void)code_len; (void)in_regs; (void)data_in; (void)data_out; (void)out_regs;
    if (fault) { memset(fault, 0, sizeof *fault); fault->status = -1; }
    return -1;
}

#endif
