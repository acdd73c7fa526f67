#pragma once
// A small folder tree of short mono WAV files for the dataset-rendering tests (RenderShardTests,
// RenderDevicesTests).
#include "AppTestUtil.h"

#include <sndfile.h>

#include <fstream>
#include <string>
#include <vector>

namespace mfx::apptest {

// `count` files named <prefix><i>.wav of 200 + i frames, spread over root, root/mid and
// root/deep/er, plus root/mid/notes.txt (not audio). Returns the audio files.
inline std::vector<fs::path> makeTree(const fs::path& root, int count, const std::string& prefix = "take") {
    std::vector<fs::path> files;
    for (int i = 0; i < count; ++i) {
        const fs::path sub = i % 3 == 0 ? root / "deep" / "er" : (i % 3 == 1 ? root / "mid" : root);
        fs::create_directories(sub);
        files.push_back(sub / (prefix + std::to_string(i) + ".wav"));
        writeAudio(files.back(), noiseSignal(200 + static_cast<std::size_t>(i), static_cast<std::uint64_t>(i)), 1, 48000,
                   SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    }
    fs::create_directories(root / "mid");
    std::ofstream(root / "mid" / "notes.txt") << "not audio";
    return files;
}

} // namespace mfx::apptest
