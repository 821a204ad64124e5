// CPU models in the manner of QEMU's `-cpu MODEL[,+feat,-feat,feat=on|off,vendor=…]`: a vendor, a family/model/
// stepping and a feature set per model (the facts of QEMU's target/i386/cpu.c model table), intersected with
// what SwiftVMX implements, so CPUID reports exactly what works. The vendor also selects the semantics where
// Intel's SDM and AMD's APM differ (SYSCALL/SYSRET outside 64-bit mode: FastSystemCalls.swift); the VMX
// feature `vmx-mbec` offers mode-based execute control for EPT (NestedEPT.swift).

/// The processor vendor CPUID leaf 0 names.
public enum CPUVendor: String, Sendable, Equatable {
    /// "GenuineIntel": the SDM's semantics.
    case intel = "GenuineIntel"
    /// "AuthenticAMD": AMD's APM semantics where the two differ (SYSCALL/SYSRET in compatibility mode).
    case amd = "AuthenticAMD"

    /// EBX, EDX, ECX of CPUID leaf 0: the twelve characters in that order.
    var words: (ebx: UInt32, edx: UInt32, ecx: UInt32) {
        let b = Array(rawValue.utf8)
        func word(_ k: Int) -> UInt32 {
            UInt32(b[k]) | UInt32(b[k + 1]) << 8 | UInt32(b[k + 2]) << 16 | UInt32(b[k + 3]) << 24
        }
        return (word(0), word(4), word(8))
    }
}

/// A CPUID feature register the models filter.
public enum CPUIDFeatureRegister: Int, Sendable, CaseIterable {
    /// CPUID.01H:ECX, CPUID.01H:EDX.
    case leaf1ECX, leaf1EDX
    /// CPUID.(EAX=07H,ECX=0):EBX, ECX, EDX.
    case leaf7EBX, leaf7ECX, leaf7EDX
    /// CPUID.80000001H:ECX, EDX.
    case ext1ECX, ext1EDX
}

/// A CPU model's rejected option: the one-line message a command line prints (exit status 64).
public struct CPUModelError: Error, Sendable, CustomStringConvertible {
    /// What is wrong, naming the model, feature or property.
    public let description: String
}

/// A processor model: what CPUID reports and which vendor's semantics the processor follows.
public struct CPUModel: Sendable, Equatable {
    /// The model's name as QEMU spells it (`default` for SwiftVMX's own processor).
    public private(set) var name: String
    /// The vendor of CPUID leaf 0 and of the semantics where vendors differ.
    public var vendor: CPUVendor
    /// CPUID.01H:EAX (stepping, model, family with their extended fields), or nil for SwiftVMX's own.
    public private(set) var signature: UInt32?
    /// The highest basic leaf (CPUID.0:EAX), or nil for SwiftVMX's own (0DH).
    public private(set) var maxBasicLeaf: UInt32?
    /// The brand string of leaves 80000002H–80000004H, or nil for SwiftVMX's own.
    public private(set) var brand: String?
    /// Per `CPUIDFeatureRegister`: the bits the model may report (the processor reports those of them it implements).
    public private(set) var masks: [UInt32]
    /// VMX mode-based execute control for EPT (secondary processor-based control 22; SDM Vol. 3C §29.3.3.2):
    /// offered to a guest hypervisor only when the model asks for it (`+vmx-mbec`).
    public var modeBasedExecuteControl = false

    /// SwiftVMX's own processor (GenuineIntel, family 6 model 0x8C, every feature it implements): today's CPUID.
    public static let `default` = CPUModel(name: "default", vendor: .intel, signature: nil, maxBasicLeaf: nil, brand: nil,
                                           masks: Array(repeating: ~0, count: CPUIDFeatureRegister.allCases.count))

    init(name: String, vendor: CPUVendor, signature: UInt32?, maxBasicLeaf: UInt32?, brand: String?, masks: [UInt32]) {
        self.name = name; self.vendor = vendor; self.signature = signature
        self.maxBasicLeaf = maxBasicLeaf; self.brand = brand; self.masks = masks
    }

    /// A named model with QEMU's family/model/stepping and feature names.
    init(name: String, vendor: CPUVendor, family: UInt32, model: UInt32, stepping: UInt32, level: UInt32,
         brand: String, features: [String]) {
        var masks = Array(repeating: UInt32(0), count: CPUIDFeatureRegister.allCases.count)
        for f in features {
            if let (r, bit) = CPUModel.featureBits[f] { masks[r.rawValue] |= 1 << bit }
        }
        self.init(name: name, vendor: vendor, signature: CPUModel.signature(family: family, model: model, stepping: stepping),
                  maxBasicLeaf: level, brand: brand, masks: masks)
    }

    /// CPUID.01H:EAX for a family, model and stepping (SDM Vol. 2A CPUID, Figure 3-6): family above 15 goes
    /// to the extended family field, and the model's high nibble to the extended model field for family 6 or 15.
    static func signature(family: UInt32, model: UInt32, stepping: UInt32) -> UInt32 {
        var eax = stepping & 0xF | (model & 0xF) << 4
        eax |= min(family, 15) << 8
        if family > 15 { eax |= (family - 15) << 20 }
        if family >= 6 { eax |= (model >> 4 & 0xF) << 16 }
        return eax
    }

    // MARK: Features

    /// QEMU's feature names and the CPUID bit each names (SDM Vol. 2A CPUID; AMD APM Vol. 3 appendix E).
    static let featureBits: [String: (CPUIDFeatureRegister, Int)] = {
        var t: [String: (CPUIDFeatureRegister, Int)] = [:]
        func add(_ r: CPUIDFeatureRegister, _ names: [(String, Int)]) { for (n, b) in names { t[n] = (r, b) } }
        add(.leaf1EDX, [("fpu", 0), ("vme", 1), ("de", 2), ("pse", 3), ("tsc", 4), ("msr", 5), ("pae", 6), ("mce", 7),
                        ("cx8", 8), ("apic", 9), ("sep", 11), ("mtrr", 12), ("pge", 13), ("mca", 14), ("cmov", 15),
                        ("pat", 16), ("pse36", 17), ("pn", 18), ("clflush", 19), ("ds", 21), ("acpi", 22), ("mmx", 23),
                        ("fxsr", 24), ("sse", 25), ("sse2", 26), ("ss", 27), ("ht", 28), ("tm", 29), ("ia64", 30), ("pbe", 31)])
        add(.leaf1ECX, [("pni", 0), ("sse3", 0), ("pclmulqdq", 1), ("dtes64", 2), ("monitor", 3), ("ds-cpl", 4),
                        ("vmx", 5), ("smx", 6), ("est", 7), ("tm2", 8), ("ssse3", 9), ("cid", 10), ("fma", 12),
                        ("cx16", 13), ("xtpr", 14), ("pdcm", 15), ("pcid", 17), ("dca", 18), ("sse4.1", 19),
                        ("sse4-1", 19), ("sse4_1", 19), ("sse4.2", 20), ("sse4-2", 20), ("sse4_2", 20), ("x2apic", 21),
                        ("movbe", 22), ("popcnt", 23), ("tsc-deadline", 24), ("aes", 25), ("xsave", 26),
                        ("osxsave", 27), ("avx", 28), ("f16c", 29), ("rdrand", 30), ("hypervisor", 31)])
        add(.leaf7EBX, [("fsgsbase", 0), ("tsc-adjust", 1), ("sgx", 2), ("bmi1", 3), ("hle", 4), ("avx2", 5), ("smep", 7),
                        ("bmi2", 8), ("erms", 9), ("invpcid", 10), ("rtm", 11), ("mpx", 14), ("avx512f", 16),
                        ("avx512dq", 17), ("rdseed", 18), ("adx", 19), ("smap", 20), ("avx512ifma", 21),
                        ("clflushopt", 23), ("clwb", 24), ("intel-pt", 25), ("avx512pf", 26), ("avx512er", 27),
                        ("avx512cd", 28), ("sha-ni", 29), ("avx512bw", 30), ("avx512vl", 31)])
        add(.leaf7ECX, [("avx512vbmi", 1), ("umip", 2), ("pku", 3), ("ospke", 4), ("waitpkg", 5), ("avx512vbmi2", 6),
                        ("gfni", 8), ("vaes", 9), ("vpclmulqdq", 10), ("avx512vnni", 11), ("avx512bitalg", 12),
                        ("avx512-vpopcntdq", 14), ("la57", 16), ("rdpid", 22), ("pks", 31)])
        add(.leaf7EDX, [("avx512-4vnniw", 2), ("avx512-4fmaps", 3), ("md-clear", 10), ("spec-ctrl", 26), ("stibp", 27),
                        ("arch-capabilities", 29), ("ssbd", 31)])
        add(.ext1ECX, [("lahf-lm", 0), ("lahf_lm", 0), ("cmp-legacy", 1), ("svm", 2), ("extapic", 3), ("cr8legacy", 4),
                       ("abm", 5), ("sse4a", 6), ("misalignsse", 7), ("3dnowprefetch", 8), ("osvw", 9), ("ibs", 10),
                       ("xop", 11), ("skinit", 12), ("wdt", 13), ("lwp", 15), ("fma4", 16), ("tce", 17),
                       ("nodeid-msr", 19), ("tbm", 21), ("topoext", 22), ("perfctr-core", 23), ("perfctr-nb", 24)])
        add(.ext1EDX, [("syscall", 11), ("nx", 20), ("xd", 20), ("mmxext", 22), ("fxsr-opt", 25), ("pdpe1gb", 26),
                       ("rdtscp", 27), ("lm", 29), ("3dnowext", 30), ("3dnow", 31)])
        return t
    }()

    /// The features SwiftVMX implements, by QEMU's names: the bits `CPU.cpuid` reports, and those the PC machine
    /// adds (`platformFeatures`). A unit test holds this list to the CPUID of the default model.
    public static let implementedFeatures: Set<String> = Set([
        "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "cx8", "sep", "pge", "cmov", "pat", "pse36", "clflush", "mmx",
        "fxsr", "sse", "sse2",
        "pni", "sse3", "ssse3", "cx16", "sse4.1", "sse4-1", "sse4_1", "sse4.2", "sse4-2", "sse4_2", "movbe", "popcnt",
        "xsave", "osxsave", "vmx",
        "smep", "smap", "umip", "pku", "ospke", "pks", "arch-capabilities", "pcid", "invpcid",
        "lahf-lm", "lahf_lm", "syscall", "nx", "xd", "pdpe1gb", "rdtscp", "lm",
    ]).union(platformFeatures)

    /// Features the PC machine reports on top of the processor's CPUID (Sources/VMM/PCMachineRun.swift): its local
    /// APIC, the APIC's x2APIC mode and TSC-deadline timer, and the hypervisor bit.
    public static let platformFeatures: Set<String> = ["apic", "x2apic", "tsc-deadline", "hypervisor"]

    /// Bits reported whenever the feature they depend on is: OSXSAVE with XSAVE, OSPKE with PKU (they mirror
    /// CR4 bits), and the hypervisor bit always (QEMU's `hypervisor` is on in every model).
    static func dependentBits(_ masks: [UInt32], _ r: CPUIDFeatureRegister) -> UInt32 {
        switch r {
        case .leaf1ECX: return (1 << 31) | (masks[r.rawValue] & (1 << 26) != 0 ? 1 << 27 : 0)
        case .leaf7ECX: return masks[r.rawValue] & (1 << 3) != 0 ? 1 << 4 : 0
        default: return 0
        }
    }

    /// Whether the model reports a feature (by QEMU's name), where SwiftVMX implements it.
    public func reports(_ feature: String) -> Bool {
        guard let (r, bit) = CPUModel.featureBits[feature] else { return false }
        return masks[r.rawValue] & (1 << bit) != 0 && CPUModel.implementedFeatures.contains(feature)
    }

    // MARK: Models

    /// The models offered, by name: QEMU's family/model/stepping, vendor and feature list (target/i386/cpu.c).
    /// `max` and `qemu64` are SwiftVMX's own processor (every feature it implements, GenuineIntel): QEMU's TCG
    /// `max` is likewise everything its emulator implements, and kvm-unit-tests entries ask for `qemu64` only to
    /// add or remove features from a baseline.
    public static let models: [String: CPUModel] = {
        var m: [String: CPUModel] = [:]
        m["default"] = CPUModel.default
        var max = CPUModel.default; max.name = "max"; m["max"] = max
        var q = CPUModel.default; q.name = "qemu64"; m["qemu64"] = q
        let legacy = ["fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", "sep", "mtrr", "pge", "mca",
                      "cmov", "pat", "pse36", "clflush", "mmx", "fxsr", "sse", "sse2"]
        m["Opteron_G1"] = CPUModel(name: "Opteron_G1", vendor: .amd, family: 15, model: 6, stepping: 1, level: 5,
                                   brand: "AMD Opteron 240 (Gen 1 Class Opteron)",
                                   features: legacy + ["pni", "lm", "nx", "syscall"])
        m["Skylake-Server"] = CPUModel(
            name: "Skylake-Server", vendor: .intel, family: 6, model: 85, stepping: 4, level: 0xD,
            brand: "Intel Xeon Processor (Skylake)",
            features: legacy + ["avx", "xsave", "aes", "popcnt", "x2apic", "sse4.2", "sse4.1", "cx16", "ssse3",
                                "pclmulqdq", "pni", "tsc-deadline", "fma", "movbe", "pcid", "f16c", "rdrand",
                                "lm", "pdpe1gb", "rdtscp", "nx", "syscall", "abm", "lahf-lm", "3dnowprefetch",
                                "fsgsbase", "bmi1", "hle", "avx2", "smep", "bmi2", "erms", "invpcid", "rtm", "mpx",
                                "rdseed", "adx", "smap", "clwb", "avx512f", "avx512dq", "avx512bw", "avx512cd",
                                "avx512vl", "clflushopt", "pku"])
        return m
    }()

    // MARK: Parsing

    /// Parses QEMU's `-cpu` syntax: `MODEL[,+feat][,-feat][,feat=on|off][,feat][,vendor=GenuineIntel|AuthenticAMD]
    /// [,host-phys-bits[=on]]`. A feature SwiftVMX does not implement cannot be turned on; unknown models,
    /// features and properties are errors.
    public static func parse(_ text: String) throws(CPUModelError) -> CPUModel {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let name = parts.first ?? ""
        guard var model = models[name] else {
            throw CPUModelError(description: "unknown CPU model '\(name)' (offered: \(models.keys.sorted().joined(separator: ", ")))")
        }
        for part in parts.dropFirst() {
            var feature = part, on = true
            if part.hasPrefix("+") { feature = String(part.dropFirst()) }
            else if part.hasPrefix("-") { feature = String(part.dropFirst()); on = false }
            else if let eq = part.firstIndex(of: "=") {
                feature = String(part[..<eq])
                let value = String(part[part.index(after: eq)...])
                switch feature {
                case "vendor":
                    guard let v = CPUVendor(rawValue: value) else {
                        throw CPUModelError(description: "vendor must be GenuineIntel or AuthenticAMD (got '\(value)')")
                    }
                    model.vendor = v
                    continue
                case "phys-bits":
                    guard UInt64(value) == CPU.maxPhysicalAddressBits else {
                        throw CPUModelError(description: "phys-bits=\(value) is not implemented (SwiftVMX has \(CPU.maxPhysicalAddressBits) physical-address bits)")
                    }
                    continue
                default:
                    switch value {
                    case "on", "true", "yes": on = true
                    case "off", "false", "no": on = false
                    default: throw CPUModelError(description: "CPU option '\(part)' takes on or off")
                    }
                }
            }
            if feature == "host-phys-bits" {
                // The guest's physical-address width is the model's own (40 bits) either way.
                continue
            }
            try model.set(feature, on)
        }
        return model
    }

    /// Turns one feature on or off.
    mutating func set(_ feature: String, _ on: Bool) throws(CPUModelError) {
        if feature == "vmx-mbec" { modeBasedExecuteControl = on; return }
        if feature.hasPrefix("vmx-") {
            // QEMU's other VMX capability names: SwiftVMX's VMX capabilities are fixed.
            if on { throw CPUModelError(description: "CPU feature '\(feature)' is not implemented by SwiftVMX") }
            return
        }
        guard let (r, bit) = CPUModel.featureBits[feature] else {
            throw CPUModelError(description: "unknown CPU feature '\(feature)'")
        }
        if on {
            guard CPUModel.implementedFeatures.contains(feature) else {
                throw CPUModelError(description: "CPU feature '\(feature)' is not implemented by SwiftVMX")
            }
            masks[r.rawValue] |= 1 << bit
        } else {
            masks[r.rawValue] &= ~(1 << bit)
        }
    }

    // MARK: CPUID

    /// Applies the model to a CPUID result of the implemented processor: the vendor, signature, highest basic
    /// leaf and brand, and the feature registers masked to the model's features.
    public func apply(leaf: UInt32, _ r: inout (eax: UInt32, ebx: UInt32, ecx: UInt32, edx: UInt32)) {
        func mask(_ reg: CPUIDFeatureRegister) -> UInt32 { masks[reg.rawValue] | CPUModel.dependentBits(masks, reg) }
        if let maxBasicLeaf, leaf > maxBasicLeaf && leaf < 0x4000_0000 { r = (0, 0, 0, 0); return }
        switch leaf {
        case 0:
            if let maxBasicLeaf { r.eax = maxBasicLeaf }
            let w = vendor.words
            r.ebx = w.ebx; r.edx = w.edx; r.ecx = w.ecx
        case 1:
            if let signature { r.eax = signature }
            r.ecx &= mask(.leaf1ECX); r.edx &= mask(.leaf1EDX)
        case 7:
            r.ebx &= mask(.leaf7EBX); r.ecx &= mask(.leaf7ECX); r.edx &= mask(.leaf7EDX)
        case 0x8000_0001:
            r.ecx &= mask(.ext1ECX); r.edx &= mask(.ext1EDX)
        case 0x8000_0002, 0x8000_0003, 0x8000_0004:
            guard let brand else { return }
            let bytes = Array(brand.utf8.prefix(47)) + [UInt8](repeating: 0, count: 48)
            let base = Int(leaf - 0x8000_0002) * 16
            func word(_ k: Int) -> UInt32 {
                UInt32(bytes[base + k * 4]) | UInt32(bytes[base + k * 4 + 1]) << 8 |
                    UInt32(bytes[base + k * 4 + 2]) << 16 | UInt32(bytes[base + k * 4 + 3]) << 24
            }
            r = (word(0), word(1), word(2), word(3))
        default:
            break
        }
    }
}
