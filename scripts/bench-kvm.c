// bench-kvm: the VM exit loops of `swiftvmx-dev bench-vmexit` and the benchmark image's `io` workload,
// run on /dev/kvm for comparison (scripts/bench compiles it with cc and runs it).
//
// Usage: bench-kvm [ITERATIONS [RUNS]]
//
// One VM, one vCPU in real mode, 64 KiB of RAM. Three guest loops, each ITERATIONS times:
//   out:   OUT 0x80, AL; DEC ESI; JNZ          -- every OUT exits to this process (KVM_EXIT_IO), which
//                                               just calls KVM_RUN again: the I/O exit round trip
//                                               through user space, like SwiftVMX's port bus.
//   cpuid: XOR EAX, EAX; CPUID; DEC ESI; JNZ   -- each CPUID is a VM exit that KVM handles inside the
//                                               kernel and resumes without leaving KVM_RUN: the exit +
//                                               entry round trip with an in-kernel handler.
//   vmcall: VMCALL; DEC ESI; JNZ               -- the same with KVM's hypercall handler (it returns
//                                               -KVM_ENOSYS in EAX). Reported as "guest exception" when
//                                               the guest gets #UD instead, "timed out" when the loop
//                                               makes no progress for 5 s (this machine's nested KVM
//                                               never completes a real-mode VMCALL).
//   hlt:   HLT; DEC ESI; JNZ                   -- each HLT exits to this process (KVM_EXIT_HLT, no
//                                               in-kernel irqchip): like `out`, for reference.
// Every loop ends with OUT 0xF4 (KVM_EXIT_IO on port 0xF4), which stops the run.
// Prints one JSON object: nanoseconds per iteration (minimum, median, maximum over RUNS runs), or
// {"skipped": "..."} with exit status 0 when /dev/kvm cannot be used.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

enum { RAM_SIZE = 0x10000, CODE = 0x1000, MAX_RUNS = 64 };

static void skip(const char *what) {
    printf("{\"skipped\": \"%s: %s\"}\n", what, strerror(errno));
    exit(0);
}

static void on_alarm(int sig) { (void)sig; }   // only interrupts KVM_RUN (EINTR)

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct vm {
    int kvm, vm, vcpu;
    uint8_t *ram;
    struct kvm_run *run;
};

static void setup(struct vm *v) {
    v->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (v->kvm < 0) skip("open /dev/kvm");
    if (ioctl(v->kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) { errno = EINVAL; skip("KVM_GET_API_VERSION"); }
    v->vm = ioctl(v->kvm, KVM_CREATE_VM, 0);
    if (v->vm < 0) skip("KVM_CREATE_VM");
    v->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (v->ram == MAP_FAILED) skip("mmap");
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = RAM_SIZE, .userspace_addr = (uint64_t)(uintptr_t)v->ram,
    };
    if (ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) skip("KVM_SET_USER_MEMORY_REGION");
    v->vcpu = ioctl(v->vm, KVM_CREATE_VCPU, 0);
    if (v->vcpu < 0) skip("KVM_CREATE_VCPU");
    int size = ioctl(v->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (size <= 0) skip("KVM_GET_VCPU_MMAP_SIZE");
    v->run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
    if (v->run == MAP_FAILED) skip("mmap kvm_run");
}

// Real-mode code at CODE: MOV ESI, n; loop: <body>; DEC ESI; JNZ loop; MOV AL, 0; OUT 0xF4, AL; HLT.
// The rest of RAM is HLT, and every interrupt vector points at CODE - 1 (a HLT), so a stray jump or an
// unexpected exception ends in a HLT exit instead of looping inside the guest.
static void load(struct vm *v, const uint8_t *body, size_t body_len, uint32_t n) {
    memset(v->ram, 0xF4, RAM_SIZE);
    for (int vec = 0; vec < 256; vec++) {              // real-mode IVT: offset CODE - 1, segment 0
        uint16_t entry[2] = { CODE - 1, 0 };
        memcpy(v->ram + 4 * vec, entry, sizeof entry);
    }
    uint8_t *p = v->ram + CODE;
    *p++ = 0x66; *p++ = 0xBE;                          // MOV ESI, imm32
    memcpy(p, &n, 4); p += 4;
    uint8_t *loop = p;
    memcpy(p, body, body_len); p += body_len;
    *p++ = 0x66; *p++ = 0x4E;                          // DEC ESI
    *p++ = 0x75; *p = (uint8_t)(loop - (p + 1)); p++;  // JNZ loop (rel8)
    *p++ = 0xB0; *p++ = 0x00;                          // MOV AL, 0
    *p++ = 0xE6; *p++ = 0xF4;                          // OUT 0xF4, AL
    *p++ = 0xF4;                                       // HLT

    struct kvm_sregs sregs;
    if (ioctl(v->vcpu, KVM_GET_SREGS, &sregs) < 0) skip("KVM_GET_SREGS");
    sregs.cs.base = 0; sregs.cs.selector = 0;
    sregs.ds = sregs.es = sregs.ss = sregs.cs;
    sregs.ds.type = sregs.es.type = sregs.ss.type = 3;
    if (ioctl(v->vcpu, KVM_SET_SREGS, &sregs) < 0) skip("KVM_SET_SREGS");
    struct kvm_regs regs = { .rip = CODE, .rflags = 2, .rsp = 0x8000 };
    if (ioctl(v->vcpu, KVM_SET_REGS, &regs) < 0) skip("KVM_SET_REGS");
}

// Runs the loaded loop to the OUT 0xF4; returns nanoseconds per iteration, -1 on an unexpected exit,
// -2 when the guest took an exception (it ends in the HLT the interrupt vectors point at), -3 when the
// 5-second alarm interrupted it.
// `halts` is the number of HLT exits the loop itself causes (n for the hlt loop, else 0).
static double measure(struct vm *v, uint32_t n, unsigned long halts, unsigned long *exits) {
    *exits = 0;
    alarm(5);
    uint64_t start = now_ns();
    for (;;) {
        if (ioctl(v->vcpu, KVM_RUN, 0) < 0) return errno == EINTR ? -3 : -1;
        ++*exits;
        if (v->run->exit_reason == KVM_EXIT_IO && v->run->io.port == 0xF4) break;
        if (v->run->exit_reason == KVM_EXIT_IO && v->run->io.port == 0x80) continue;
        if (v->run->exit_reason == KVM_EXIT_HLT && *exits <= halts) continue;
        if (v->run->exit_reason == KVM_EXIT_HLT) return -2;   // the HLT every interrupt vector points at
        fprintf(stderr, "bench-kvm: unexpected exit reason %u\n", v->run->exit_reason);
        return -1;
    }
    uint64_t end = now_ns();
    alarm(0);
    return (double)(end - start) / n;
}

int main(int argc, char **argv) {
    uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 200000;
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    if (n == 0 || runs <= 0 || runs > MAX_RUNS) {
        fprintf(stderr, "usage: bench-kvm [ITERATIONS [RUNS <= %d]]\n", MAX_RUNS);
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;                          // no SA_RESTART: KVM_RUN returns EINTR
    sigaction(SIGALRM, &sa, NULL);
    struct vm v;
    setup(&v);
    static const struct { const char *name; uint8_t body[8]; size_t len; } loops[] = {
        { "out", { 0xE6, 0x80 }, 2 },                  // OUT 0x80, AL
        { "cpuid", { 0x66, 0x31, 0xC0, 0x0F, 0xA2 }, 5 }, // XOR EAX, EAX; CPUID
        { "vmcall", { 0x0F, 0x01, 0xC1 }, 3 },         // VMCALL
        { "hlt", { 0xF4 }, 1 },                        // HLT
    };
    printf("{\"iterations\": %u, \"runs\": %d", n, runs);
    for (size_t l = 0; l < sizeof loops / sizeof loops[0]; l++) {
        double ns[MAX_RUNS];
        unsigned long exits = 0;
        for (int r = 0; r <= runs; r++) {              // run 0 is a warm-up
            load(&v, loops[l].body, loops[l].len, n);
            double x = measure(&v, n, loops[l].body[0] == 0xF4 ? n : 0, &exits);
            if (x < 0) {
                alarm(0);
                printf(", \"%s\": \"%s\"", loops[l].name,
                       x < -2 ? "timed out" : x < -1 ? "guest exception" : "unexpected exit");
                fflush(stdout);
                goto next;
            }
            if (r > 0) ns[r - 1] = x;
        }
        qsort(ns, (size_t)runs, sizeof ns[0], cmp_double);
        printf(", \"%s\": {\"min\": %.1f, \"median\": %.1f, \"max\": %.1f, \"userspace_exits\": %lu}",
               loops[l].name, ns[0], ns[runs / 2], ns[runs - 1], exits);
        fflush(stdout);
    next:;
    }
    printf("}\n");
    return 0;
}
