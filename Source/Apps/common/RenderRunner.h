#pragma once
// Rendering a planned batch of files on one or more backends (one worker per backend):
//  - one backend: the files in order, on the calling thread;
//  - several (`--devices`, one per GPU): one host thread per backend, file j going to worker
//    j mod workers (round-robin over the sorted list), each backend prepared once and reset per file.
// Progress is one aggregated bar over all workers (finished files plus every worker's current file);
// per-file summary lines, notes and errors are printed whole, one at a time. A failing file is
// reported and the others go on; Ctrl-C stops every worker after its current window, and each one's
// unfinished output is removed.
#include "Progress.h"
#include "RenderPipeline.h"

#include <cstddef>
#include <string>
#include <vector>

namespace mfx::apps {

struct BatchOptions {
    Progress::Mode progress = Progress::Mode::Auto;
    bool quiet = false; // only errors
};

struct BatchResult {
    std::size_t rendered = 0;
    std::size_t failed = 0;
    double audioSeconds = 0.0; // of the files rendered
    double wallSeconds = 0.0;  // of the whole batch
    bool interrupted = false;  // Ctrl-C: workers stopped, their unfinished outputs removed
};

// backends: one per worker, not shared with anything else while this runs.
BatchResult renderBatch(const std::vector<RenderJob>& jobs, const Model& model,
                        const std::vector<RenderBackend*>& backends, const RenderSettings& settings,
                        const BatchOptions& options);

// "in.wav -> out.wav  2.00 s, 1 ch, 48000 Hz, 35.1x real-time"
std::string summaryLine(const RenderJob& job, const RenderStats& stats, double modelRate);

} // namespace mfx::apps
