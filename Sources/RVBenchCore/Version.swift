// SPDX-License-Identifier: GPL-3.0-or-later

/// rvbench's own version, recorded in every manifest.
public enum RVBenchVersion {
    public static let string = "0.1.0"
}
