// Expanding inputs, naming outputs, and refusing unsafe writes.
#include "RenderPlan.h"

#include "Errors.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace mfx::apps {

namespace fs = std::filesystem;

namespace {

std::string quoted(const fs::path& p) {
    std::string q(1, '\'');
    q.append(p.string()).push_back('\'');
    return q;
}

bool isHidden(const fs::path& p) {
    const std::string name = p.filename().string();
    return !name.empty() && name[0] == '.';
}

struct Source {
    fs::path file;
    fs::path relative; // below the folder it was found in (or just the file name)
    bool fromFolder = false;
};

// Files below `folder`, sorted, skipping hidden entries. What would silently leave files out of a
// dataset render goes to `errors`: a subfolder that cannot be read, a link to nothing.
std::vector<Source> listFolder(const fs::path& folder, std::vector<std::string>& errors) {
    std::vector<Source> found;
    std::error_code ec;
    const auto options = fs::directory_options::skip_permission_denied;
    for (auto it = fs::recursive_directory_iterator(folder, options, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        const fs::path& p = it->path();
        if (isHidden(p)) {
            if (it->is_directory(ec)) it.disable_recursion_pending();
            continue;
        }
        std::error_code e2;
        if (it->is_directory(e2) && !it->is_symlink(e2)) {
            fs::directory_iterator probe(p, e2); // entered next; skip_permission_denied would drop it silently
            if (e2)
                errors.push_back("cannot read folder " + quoted(p) + " (" + e2.message() +
                                 "): its files would be left out; fix its permissions, or render without it");
            continue;
        }
        if (it->is_symlink(e2) && !fs::exists(p, e2)) {
            errors.push_back(quoted(p) + " is a link to nothing (" + quoted(fs::read_symlink(p, e2)) +
                             "); fix or remove the link");
            continue;
        }
        if (!it->is_regular_file(ec)) continue; // folders are entered, links to them are not
        found.push_back({p, p.lexically_relative(folder), true});
    }
    if (ec) throw Failure("cannot list folder " + quoted(folder) + ": " + ec.message());
    std::sort(found.begin(), found.end(), [](const Source& a, const Source& b) { return a.file < b.file; });
    return found;
}

// Refuses an --out-dir that is `folder` (an input folder, searched recursively) or lies inside it:
// the outputs would be found as inputs by the next run (so --skip-existing could not resume it), by
// a shard still listing while another writes, and inputs already there would be mixed with outputs.
void checkOutDirOutside(const fs::path& outDir, const fs::path& folder) {
    std::error_code ec;
    const fs::path out = fs::weakly_canonical(fs::absolute(outDir, ec), ec);
    const fs::path in = fs::weakly_canonical(fs::absolute(folder, ec), ec);
    const fs::path below = out.lexically_relative(in);
    if (below.empty() || *below.begin() == "..") return;
    throw UsageError("--out-dir " + quoted(outDir) + (below == "." ? " is" : " is inside") + " the input folder " +
                     quoted(folder) + ": a later run (--skip-existing too) would take the outputs for inputs; choose an "
                     "--out-dir outside " + quoted(folder));
}

// The output format from --format, else from -o's extension, else the input's container.
const FormatInfo* requestedFormat(const PlanRequest& request, const fs::path& input) {
    if (!request.output) return request.format;
    const FormatInfo* byExtension = findFormatByExtension(*request.output);
    if (request.format) {
        if (byExtension && byExtension != request.format)
            throw UsageError("--format " + request.format->name + " does not match the output name " +
                             quoted(*request.output) + " (a ." + byExtension->name + " name); make them agree");
        return request.format;
    }
    // -o with the input's own extension keeps the input's container as --out-dir does (a WAV with
    // WAVE_FORMAT_EXTENSIBLE, e.g. a 5.1 file's channel mask, stays one)
    if (byExtension && byExtension == findFormatByExtension(input)) return nullptr;
    if (byExtension) return byExtension;
    if (request.output->extension() == input.extension()) return nullptr; // same (unlisted) container
    throw UsageError("cannot tell the output format from the name " + quoted(*request.output) +
                     "; give --format (" + knownFormatNames() + ")");
}

// The name of `source`'s output in --out-dir, from its path and --format alone (so every shard names
// every file alike, opened or not): a changed container gets its own extension (take.wav -> take.flac,
// take.voc -> take.wav), an extension that already fits --format is kept (take.aif with -f aiff).
fs::path outputInDir(const PlanRequest& request, const Source& source) {
    fs::path output = *request.outDir / source.relative;
    if (request.format && findFormatByExtension(source.file) != request.format)
        output.replace_extension(request.format->extensions.front());
    return output;
}

// The output planRender would give `source`, without opening it: used for the other shards' files.
// A file named directly is audio or an error; in a folder, a file counts as audio when its extension
// says so (voc, nist, ... too, not only --format's list). A folder file under another extension that
// libsndfile reads all the same is rendered by its shard but not foreseen by the others.
std::optional<fs::path> predictedOutput(const PlanRequest& request, const Source& source) {
    if (request.output) return *request.output;
    if (source.fromFolder && !hasAudioExtension(source.file)) return std::nullopt;
    return outputInDir(request, source);
}

} // namespace

Plan planRender(const PlanRequest& request) {
    if (request.inputs.empty()) throw UsageError("give at least one INPUT file or folder");
    if (request.output && request.outDir)
        throw UsageError("give either -o OUTPUT (for one input file) or --out-dir DIR, not both");
    if (!request.output && !request.outDir)
        throw UsageError("say where to write: -o OUTPUT for one input file, or --out-dir DIR");
    if (request.overwrite && request.skipExisting)
        throw UsageError("--overwrite and --skip-existing contradict each other; keep one");
    if (request.shard.count == 0 || request.shard.index >= request.shard.count)
        throw UsageError("--shard: K must be from 0 to N-1");

    Plan plan;
    std::error_code ec;
    if (request.outDir && fs::exists(*request.outDir, ec) && !fs::is_directory(*request.outDir, ec))
        throw UsageError("--out-dir " + quoted(*request.outDir) + " is a file, not a folder");

    // 1. Inputs -> sources, in one list sorted by path (the order shards are counted in).
    std::vector<Source> sources;
    bool anyFolder = false;
    for (const auto& text : request.inputs) {
        const fs::path p(text);
        if (!fs::exists(p, ec)) {
            plan.errors.push_back("input " + quoted(p) + (ec ? " cannot be reached (" + ec.message() + ")" : " does not exist"));
            continue;
        }
        if (fs::is_directory(p, ec)) {
            anyFolder = true;
            if (request.outDir) checkOutDirOutside(*request.outDir, p);
            auto found = listFolder(p, plan.errors);
            if (found.empty()) plan.errors.push_back("folder " + quoted(p) + " contains no files");
            sources.insert(sources.end(), found.begin(), found.end());
        } else {
            sources.push_back({p, p.filename(), false});
        }
    }
    if (request.output && (request.inputs.size() > 1 || anyFolder))
        throw UsageError("-o OUTPUT takes exactly one input file; for several inputs or a folder use --out-dir DIR");
    // --bit-depth against the asked format: wrong for every file alike, so a command-line problem.
    const FormatInfo* asked = request.format ? request.format
                                             : (request.output ? findFormatByExtension(*request.output) : nullptr);
    if (asked) checkBitDepthFor(*asked, request.bitDepth);
    std::stable_sort(sources.begin(), sources.end(), [](const Source& a, const Source& b) { return a.file < b.file; });
    plan.filesFound = sources.size();

    // 2. This shard's files; the others' outputs are only predicted (for the collision check).
    std::set<fs::path> inputIdentities; // canonical paths of all inputs (every shard)
    for (const auto& s : sources) inputIdentities.insert(fs::weakly_canonical(s.file, ec));
    std::map<fs::path, fs::path> claimed; // canonical output -> input that claimed it
    std::map<fs::path, fs::path> otherShards; // predicted canonical output -> input in another shard
    std::vector<Source> mine;
    for (std::size_t i = 0; i < sources.size(); ++i) {
        if (request.shard.contains(i)) {
            mine.push_back(sources[i]);
        } else if (const auto predicted = predictedOutput(request, sources[i])) {
            otherShards.emplace(fs::weakly_canonical(*predicted, ec), sources[i].file);
        }
    }
    plan.filesInShard = mine.size();

    // 3. Open each source, choose its output format and name.
    std::size_t audioInFolders = 0;
    for (const auto& source : mine) {
        AudioInfo info;
        try {
            AudioReader reader(source.file);
            info = reader.info();
            if (!reader.truncation().empty())
                plan.notes.push_back(source.file.string() + ": " + reader.truncation() + "; rendering what is there");
        } catch (const Failure& e) {
            if (source.fromFolder && !hasAudioExtension(source.file))
                plan.notes.push_back("skipping " + quoted(source.file) + ": not an audio file");
            else
                plan.errors.push_back(e.what());
            continue;
        }
        if (source.fromFolder) ++audioInFolders;

        const FormatInfo* requested = requestedFormat(request, source.file);
        std::string note;
        int format = 0;
        try {
            format = chooseOutputFormat(requested, request.bitDepth, info.format, info.channels, info.sampleRate, note);
        } catch (const UsageError& e) { // this file's channels, rate or samples: its own error, like any other
            plan.errors.push_back(source.file.string() + ": " + e.what());
            continue;
        }
        if (!note.empty()) plan.notes.push_back(source.file.string() + ": " + note);

        const fs::path output = request.output ? *request.output : outputInDir(request, source);

        // Safety checks on the output path.
        const fs::path identity = fs::weakly_canonical(output, ec);
        if (inputIdentities.count(identity) != 0 || (fs::exists(output, ec) && fs::equivalent(output, source.file, ec))) {
            plan.errors.push_back("refusing to overwrite the input file " + quoted(output) +
                                  "; choose another output name or folder");
            continue;
        }
        if (fs::is_directory(output, ec)) {
            plan.errors.push_back("output " + quoted(output) + " is a folder; give a file name with -o, or use --out-dir");
            continue;
        }
        if (auto [it, inserted] = claimed.emplace(identity, source.file); !inserted) {
            plan.errors.push_back(quoted(it->second) + " and " + quoted(source.file) + " would both be written to " +
                                  quoted(output) + "; render them into different folders");
            continue;
        }
        if (auto it = otherShards.find(identity); it != otherShards.end()) {
            plan.errors.push_back(quoted(it->second) + " (another shard's file) and " + quoted(source.file) +
                                  " would both be written to " + quoted(output) + "; render them into different folders");
            continue;
        }
        if (!request.overwrite && fs::exists(output, ec)) {
            if (request.skipExisting) {
                plan.skipped.push_back(output);
            } else {
                plan.errors.push_back("output " + quoted(output) +
                                      " exists; pass --overwrite to replace it (or --skip-existing to keep it)");
                ++plan.usageErrors;
            }
            continue;
        }
        if (request.output) {
            const fs::path parent = output.has_parent_path() ? output.parent_path() : fs::path(".");
            if (!fs::is_directory(parent, ec)) {
                plan.errors.push_back("the folder of the output " + quoted(output) + " does not exist; create it first");
                continue;
            }
        }
        plan.jobs.push_back({source.file, output, info, format});
    }
    if (anyFolder && request.shard.count == 1 && audioInFolders == 0 && plan.errors.empty() && plan.jobs.empty())
        plan.errors.push_back("no audio files found in the given folder(s)");
    return plan;
}

} // namespace mfx::apps
