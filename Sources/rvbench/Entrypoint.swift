// SPDX-License-Identifier: GPL-3.0-or-later
import CLI

@main
struct Entrypoint {
    static func main() async {
        await RVBenchCommand.main()
    }
}
