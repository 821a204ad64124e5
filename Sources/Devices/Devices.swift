// Devices: one file per device behind one small protocol (port or MMIO offset, access size).
