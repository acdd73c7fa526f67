#pragma once
// Turning `mambafx render INPUT... (-o OUTPUT | --out-dir DIR)` into a list of (input, output, format)
// jobs before any audio is touched, so every conflict is reported up front:
//  - folders are searched recursively (sorted, hidden entries skipped); files libsndfile cannot open
//    are skipped with a note, unless their extension says they are audio (then it is an error); the
//    tree below each folder is kept under --out-dir, which may not be such a folder or lie inside one
//    (a later run would take its outputs for inputs);
//  - an output may never be an input; an existing output needs --overwrite (or is skipped with
//    --skip-existing: outputs only ever appear complete, so an existing one is finished work); two
//    inputs may not map to one output;
//  - all files found are sorted by path into one list; --shard K/N keeps file i of it when i mod N == K
//    (before any file is opened, so a shard reads only its own files). Outputs of the other shards'
//    files are predicted from their names so that two shards never write one output.
#include "AudioFile.h"
#include "RenderSelect.h"

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
    bool skipExisting = false; // an existing output is skipped (never overwritten)
    Shard shard;               // default 0/1: every file
};

struct Plan {
    std::vector<RenderJob> jobs;
    std::vector<std::string> notes;  // skipped files, format substitutions
    std::vector<std::string> errors; // file problems (exit 1); empty when the plan can run
    std::size_t usageErrors = 0;     // of which outputs that exist without --overwrite: when all are, exit 2
                                     // (as train and capture-signal: the command line must say --overwrite)
    std::vector<std::filesystem::path> skipped; // existing outputs left alone (--skip-existing)
    std::size_t filesFound = 0;   // all files the inputs expand to (every shard together)
    std::size_t filesInShard = 0; // of which this shard's
};

// Throws UsageError for impossible option combinations (exit 2); file problems go to Plan::errors.
Plan planRender(const PlanRequest& request);

} // namespace mfx::apps
