#pragma once
// Which files this run renders and on which GPUs, from the text of `mambafx render`'s options:
//  --shard K/N   input i of the sorted, expanded input list belongs to shard (i mod N); this run takes
//                shard K. The shards of one N partition the inputs (every file in exactly one), and
//                the choice depends only on the list of file paths, never on what was rendered.
//  --devices L   "all" or GPU indices "0,1,3": files go round-robin to one worker per GPU.
// Both parsers throw UsageError with a message that says what to write instead.
#include <cstddef>
#include <string>
#include <vector>

namespace mfx::apps {

struct Shard {
    std::size_t index = 0; // K, in [0, count)
    std::size_t count = 1; // N >= 1
    bool contains(std::size_t i) const { return i % count == index; }
};

Shard parseShard(const std::string& text);

struct DeviceList {
    bool all = false;
    std::vector<int> indices; // distinct, in the order given (empty when all)
};

DeviceList parseDeviceList(const std::string& text);

// The GPU indices a DeviceList names on a machine with `available` GPUs. Throws UsageError for an
// index >= available (available > 0).
std::vector<int> resolveDevices(const DeviceList& list, int available);

} // namespace mfx::apps
