#pragma once
// Turning `mambafx render INPUT... (-o OUTPUT | --out-dir DIR)` into a list of (input, output, format)
// jobs before any audio is touched, so every conflict is reported up front:
//  - folders are searched recursively (sorted, hidden entries and the --out-dir itself skipped); files
//    libsndfile cannot open are skipped with a note, unless their extension says they are audio (then
//    it is an error); the tree below each folder is kept under --out-dir;
//  - an output may never be an input; an existing output needs --overwrite; two inputs may not map to
//    one output.
#include "AudioFile.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mfx::apps {

struct RenderJob {
    std::filesystem::path input;
    std::filesystem::path output;
    AudioInfo info;       // of the input
    int outputFormat = 0; // SF_FORMAT major | subtype
};

struct PlanRequest {
    std::vector<std::string> inputs;
    std::optional<std::filesystem::path> output; // -o
    std::optional<std::filesystem::path> outDir; // --out-dir
    const FormatInfo* format = nullptr;          // --format, nullptr = same as input (or -o's extension)
    BitDepth bitDepth = BitDepth::Same;
    bool overwrite = false;
};

struct Plan {
    std::vector<RenderJob> jobs;
    std::vector<std::string> notes;  // skipped files, format substitutions
    std::vector<std::string> errors; // file problems (exit 1); empty when the plan can run
};

// Throws UsageError for impossible option combinations (exit 2); file problems go to Plan::errors.
Plan planRender(const PlanRequest& request);

} // namespace mfx::apps
