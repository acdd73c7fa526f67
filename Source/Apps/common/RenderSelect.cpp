// --shard K/N and --devices LIST (see RenderSelect.h).
#include "RenderSelect.h"

#include "Errors.h"

#include <algorithm>

namespace mfx::apps {

namespace {

// A plain decimal number (digits only, at most 9 of them), else false.
bool parseCount(const std::string& text, std::size_t& value) {
    if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos) return false;
    value = static_cast<std::size_t>(std::stoul(text));
    return true;
}

} // namespace

Shard parseShard(const std::string& text) {
    const std::string hint = "; write --shard K/N to render shard K of N (K from 0 to N-1), e.g. --shard 0/4";
    const std::string unset = " (in a Slurm array job: --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT; those are "
                              "set only inside the job)";
    if (text.empty()) throw UsageError("--shard is empty" + hint + unset);
    const auto slash = text.find('/');
    if (slash == std::string::npos || text.find('/', slash + 1) != std::string::npos)
        throw UsageError("--shard '" + text + "' is not K/N" + hint);
    const std::string k = text.substr(0, slash), n = text.substr(slash + 1);
    if (k.empty() || n.empty())
        throw UsageError("--shard '" + text + "' is missing " + (k.empty() ? "K" : "N") + hint + unset);
    Shard shard;
    if (!parseCount(k, shard.index) || !parseCount(n, shard.count))
        throw UsageError("--shard '" + text + "': K and N must be whole numbers" + hint);
    if (shard.count == 0) throw UsageError("--shard '" + text + "': N must be at least 1" + hint);
    if (shard.index >= shard.count)
        throw UsageError("--shard '" + text + "': K must be from 0 to " + std::to_string(shard.count - 1) +
                         " (shards count from 0; for Slurm use --array=0-" + std::to_string(shard.count - 1) + ")");
    return shard;
}

DeviceList parseDeviceList(const std::string& text) {
    DeviceList list;
    if (text == "all") {
        list.all = true;
        return list;
    }
    const std::string hint = "; write GPU indices like --devices 0,1 or --devices all";
    std::size_t start = 0;
    for (;;) {
        const auto comma = text.find(',', start);
        const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        std::size_t index = 0;
        if (!parseCount(item, index) || index > 1023)
            throw UsageError("--devices '" + text + "': '" + item + "' is not a GPU index" + hint);
        if (std::find(list.indices.begin(), list.indices.end(), static_cast<int>(index)) != list.indices.end())
            throw UsageError("--devices '" + text + "' names GPU " + item + " twice" + hint);
        list.indices.push_back(static_cast<int>(index));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return list;
}

std::vector<int> resolveDevices(const DeviceList& list, int available) {
    std::vector<int> devices;
    if (list.all) {
        for (int i = 0; i < available; ++i) devices.push_back(i);
        return devices;
    }
    for (const int i : list.indices)
        if (i >= available)
            throw UsageError("--devices: there is no GPU " + std::to_string(i) + " (this machine has " +
                             std::to_string(available) + ": 0 to " + std::to_string(available - 1) + ")");
    return list.indices;
}

} // namespace mfx::apps
