/* kvmtest: KVM inside the SwiftVMX guest (issue 15). Built static by scripts/fetch-guests, run by the
 * /init of the nested initramfs (scripts/test-nested) after kvm_intel is loaded.
 *
 * Opens /dev/kvm, creates a VM with 2 MiB of memory and one vCPU, and runs two guests on it:
 *  1. 16-bit real mode at 0x1000: OUT 0x41 to port 0x10, CPUID leaf 0 (handled by KVM itself: its result
 *     is checked in EBX/ECX/EDX against KVM_GET_SUPPORTED_CPUID's leaf 0, which KVM_SET_CPUID2 gave the
 *     vCPU, and checked at the HLT exit), OUT 0x42 to port 0x10, HLT.
 *  2. 64-bit mode with 4-level paging: an identity map of the first 2 MiB and an alias of it at 2 MiB;
 *     OUT of a constant (32-bit) to port 0x11, a load through the alias (virtual 0x207000, physical
 *     0x7000, where this program wrote a magic number), OUT of it to port 0x12, HLT.
 * Every exit is checked (reason, port, direction, size, data). Prints KVMTEST-PASS at the end, or
 * "KVMTEST-FAIL: why" and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define MEMORY_SIZE 0x200000
#define MAGIC 0x5EEDF00Du

static void fail(const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    printf("KVMTEST-FAIL: ");
    vprintf(format, ap);
    printf(" (errno %d: %s)\n", errno, strerror(errno));
    va_end(ap);
    fflush(stdout);
    exit(1);
}

struct vm {
    int kvm, fd, vcpu;
    uint8_t *memory;
    struct kvm_run *run;
};

/* Runs the vCPU once and checks that it exited with `reason`. */
static void run_expect(struct vm *vm, uint32_t reason, const char *step)
{
    if (ioctl(vm->vcpu, KVM_RUN, 0) < 0)
        fail("%s: KVM_RUN", step);
    if (vm->run->exit_reason != reason) {
        struct kvm_regs regs;
        ioctl(vm->vcpu, KVM_GET_REGS, &regs);
        errno = 0;
        fail("%s: exit reason %u, expected %u (rip 0x%llx, hardware reason 0x%llx)", step,
             vm->run->exit_reason, reason, (unsigned long long)regs.rip,
             (unsigned long long)vm->run->hw.hardware_exit_reason);
    }
}

/* Runs the vCPU once and checks for an OUT of `size` bytes of `value` to `port`. */
static void expect_out(struct vm *vm, uint16_t port, int size, uint32_t value, const char *step)
{
    run_expect(vm, KVM_EXIT_IO, step);
    struct kvm_run *r = vm->run;
    uint32_t data = 0;
    memcpy(&data, (uint8_t *)r + r->io.data_offset, size);
    errno = 0;
    if (r->io.direction != KVM_EXIT_IO_OUT || r->io.port != port || r->io.size != size || r->io.count != 1)
        fail("%s: I/O exit dir %u port 0x%x size %u count %u, expected OUT to 0x%x size %d", step,
             r->io.direction, r->io.port, r->io.size, r->io.count, port, size);
    if (data != value)
        fail("%s: OUT data 0x%x, expected 0x%x", step, data, value);
    printf("kvmtest: %s: OUT 0x%x to port 0x%x\n", step, data, port);
}

static void make_vm(struct vm *vm)
{
    vm->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (vm->kvm < 0)
        fail("open /dev/kvm");
    int version = ioctl(vm->kvm, KVM_GET_API_VERSION, 0);
    if (version != KVM_API_VERSION)
        fail("KVM_GET_API_VERSION %d", version);
    vm->fd = ioctl(vm->kvm, KVM_CREATE_VM, 0);
    if (vm->fd < 0)
        fail("KVM_CREATE_VM");
    /* Where KVM may put the real-mode TSS and identity page table (needed without unrestricted guest). */
    if (ioctl(vm->fd, KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0)
        fail("KVM_SET_TSS_ADDR");
    uint64_t identity = 0xfffbc000;
    if (ioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0)
        fail("KVM_SET_IDENTITY_MAP_ADDR");
    vm->memory = mmap(NULL, MEMORY_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (vm->memory == MAP_FAILED)
        fail("mmap");
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = MEMORY_SIZE, .userspace_addr = (uintptr_t)vm->memory,
    };
    if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        fail("KVM_SET_USER_MEMORY_REGION");
    vm->vcpu = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
    if (vm->vcpu < 0)
        fail("KVM_CREATE_VCPU");
    int size = ioctl(vm->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (size < (int)sizeof(struct kvm_run))
        fail("KVM_GET_VCPU_MMAP_SIZE %d", size);
    vm->run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu, 0);
    if (vm->run == MAP_FAILED)
        fail("mmap kvm_run");
}

/* Gives the vCPU what KVM supports (KVM_GET_SUPPORTED_CPUID); returns leaf 0. */
static struct kvm_cpuid_entry2 set_cpuid(struct vm *vm)
{
    int n = 100;
    struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(struct kvm_cpuid_entry2));
    if (!cpuid)
        fail("calloc");
    cpuid->nent = n;
    if (ioctl(vm->kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0)
        fail("KVM_GET_SUPPORTED_CPUID");
    struct kvm_cpuid_entry2 leaf0 = {0};
    int found = 0;
    for (unsigned i = 0; i < cpuid->nent; i++) {
        if (cpuid->entries[i].function == 0) {
            leaf0 = cpuid->entries[i];
            found = 1;
        }
    }
    errno = 0;
    if (!found)
        fail("KVM_GET_SUPPORTED_CPUID has no leaf 0");
    if (ioctl(vm->vcpu, KVM_SET_CPUID2, cpuid) < 0)
        fail("KVM_SET_CPUID2");
    free(cpuid);
    return leaf0;
}

static void real_mode_guest(struct vm *vm, struct kvm_cpuid_entry2 leaf0)
{
    static const uint8_t code[] = {
        0xB0, 0x41,             /* mov al, 0x41 */
        0xBA, 0x10, 0x00,       /* mov dx, 0x10 */
        0xEE,                   /* out dx, al */
        0x66, 0x31, 0xC0,       /* xor eax, eax */
        0x66, 0x31, 0xC9,       /* xor ecx, ecx */
        0x0F, 0xA2,             /* cpuid */
        0x66, 0x52,             /* push edx */
        0xB0, 0x42,             /* mov al, 0x42 */
        0xBA, 0x10, 0x00,       /* mov dx, 0x10 */
        0xEE,                   /* out dx, al */
        0x66, 0x5A,             /* pop edx */
        0xF4,                   /* hlt */
    };
    memcpy(vm->memory + 0x1000, code, sizeof(code));
    struct kvm_sregs sregs;
    if (ioctl(vm->vcpu, KVM_GET_SREGS, &sregs) < 0)
        fail("KVM_GET_SREGS");
    sregs.cs.selector = 0;
    sregs.cs.base = 0;
    if (ioctl(vm->vcpu, KVM_SET_SREGS, &sregs) < 0)
        fail("KVM_SET_SREGS (real mode)");
    struct kvm_regs regs = { .rip = 0x1000, .rflags = 2, .rsp = 0x800 };
    if (ioctl(vm->vcpu, KVM_SET_REGS, &regs) < 0)
        fail("KVM_SET_REGS (real mode)");
    expect_out(vm, 0x10, 1, 0x41, "real mode: first OUT");
    expect_out(vm, 0x10, 1, 0x42, "real mode: OUT after CPUID");
    run_expect(vm, KVM_EXIT_HLT, "real mode: HLT");
    if (ioctl(vm->vcpu, KVM_GET_REGS, &regs) < 0)
        fail("KVM_GET_REGS");
    errno = 0;
    if ((uint32_t)regs.rbx != leaf0.ebx || (uint32_t)regs.rcx != leaf0.ecx || (uint32_t)regs.rdx != leaf0.edx)
        fail("real mode: CPUID leaf 0 gave ebx/ecx/edx %08x %08x %08x, KVM supports %08x %08x %08x",
             (uint32_t)regs.rbx, (uint32_t)regs.rcx, (uint32_t)regs.rdx, leaf0.ebx, leaf0.ecx, leaf0.edx);
    char vendor[13];
    memcpy(vendor, &leaf0.ebx, 4);
    memcpy(vendor + 4, &leaf0.edx, 4);
    memcpy(vendor + 8, &leaf0.ecx, 4);
    vendor[12] = 0;
    printf("kvmtest: real mode: CPUID leaf 0 (by KVM): \"%s\"\n", vendor);
    if (regs.rip != 0x1000 + sizeof(code))
        fail("real mode: HLT exit at rip 0x%llx, expected 0x%zx", (unsigned long long)regs.rip, 0x1000 + sizeof(code));
    printf("kvmtest: real mode: HLT at rip 0x%llx\n", (unsigned long long)regs.rip);
}

static void long_mode_guest(struct vm *vm)
{
    uint64_t *pml4 = (uint64_t *)(vm->memory + 0x2000);
    uint64_t *pdpt = (uint64_t *)(vm->memory + 0x3000);
    uint64_t *pd = (uint64_t *)(vm->memory + 0x4000);
    memset(pml4, 0, 0x3000);
    pml4[0] = 0x3000 | 3;
    pdpt[0] = 0x4000 | 3;
    pd[0] = 0x0 | 0x83;         /* 2 MiB page: virtual 0 -> physical 0 */
    pd[1] = 0x0 | 0x83;         /* virtual 2 MiB -> physical 0 (the alias) */
    uint32_t magic = MAGIC;
    memcpy(vm->memory + 0x7000, &magic, 4);
    static const uint8_t code[] = {
        0xB8, 0xDE, 0xC0, 0x00, 0x00,                   /* mov eax, 0xC0DE */
        0x66, 0xBA, 0x11, 0x00,                         /* mov dx, 0x11 */
        0xEF,                                           /* out dx, eax */
        0x48, 0x8B, 0x04, 0x25, 0x00, 0x70, 0x20, 0x00, /* mov rax, [0x207000] */
        0x66, 0xBA, 0x12, 0x00,                         /* mov dx, 0x12 */
        0xEF,                                           /* out dx, eax */
        0xF4,                                           /* hlt */
    };
    memcpy(vm->memory + 0x6000, code, sizeof(code));
    struct kvm_sregs sregs;
    if (ioctl(vm->vcpu, KVM_GET_SREGS, &sregs) < 0)
        fail("KVM_GET_SREGS");
    struct kvm_segment cs = {
        .base = 0, .limit = 0xffffffff, .selector = 8, .type = 11, .present = 1, .dpl = 0, .db = 0, .s = 1,
        .l = 1, .g = 1,
    };
    struct kvm_segment data = cs;
    data.selector = 0x10;
    data.type = 3;
    data.l = 0;
    data.db = 1;
    sregs.cs = cs;
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
    sregs.cr3 = 0x2000;
    sregs.cr4 = 1u << 5;                        /* PAE */
    sregs.cr0 = 0x80000031u;                    /* PG, NE, ET, PE */
    sregs.efer = 0x500;                         /* LME, LMA */
    if (ioctl(vm->vcpu, KVM_SET_SREGS, &sregs) < 0)
        fail("KVM_SET_SREGS (64-bit mode)");
    struct kvm_regs regs = { .rip = 0x6000, .rflags = 2, .rsp = 0x8000 };
    if (ioctl(vm->vcpu, KVM_SET_REGS, &regs) < 0)
        fail("KVM_SET_REGS (64-bit mode)");
    expect_out(vm, 0x11, 4, 0xC0DE, "64-bit mode: first OUT");
    expect_out(vm, 0x12, 4, MAGIC, "64-bit mode: OUT of the load through paging");
    run_expect(vm, KVM_EXIT_HLT, "64-bit mode: HLT");
    if (ioctl(vm->vcpu, KVM_GET_REGS, &regs) < 0)
        fail("KVM_GET_REGS");
    errno = 0;
    if (regs.rip != 0x6000 + sizeof(code))
        fail("64-bit mode: HLT exit at rip 0x%llx", (unsigned long long)regs.rip);
    printf("kvmtest: 64-bit mode: HLT at rip 0x%llx\n", (unsigned long long)regs.rip);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct vm vm;
    make_vm(&vm);
    printf("kvmtest: VM and vCPU created\n");
    struct kvm_cpuid_entry2 leaf0 = set_cpuid(&vm);
    real_mode_guest(&vm, leaf0);
    long_mode_guest(&vm);
    printf("KVMTEST-PASS\n");
    return 0;
}
