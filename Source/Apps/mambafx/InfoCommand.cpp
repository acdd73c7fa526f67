// mambafx info MODEL: what a model file is (config, size, parameter count, every metadata entry).
// Exit 0 only for a model the loader accepts; otherwise the loader's message and exit 1.
#include "Commands.h"

#include <common/Errors.h>

#include <Model/ModelError.h>
#include <Model/ModelFile.h>
#include <Model/Safetensors.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

namespace mfx::apps {

namespace {

namespace fs = std::filesystem;

struct InfoOptions {
    std::string model;
    bool json = false;
};

std::string humanBytes(std::uintmax_t bytes) {
    char buf[64];
    if (bytes >= (1u << 20))
        std::snprintf(buf, sizeof buf, "%.1f MiB (%ju bytes)", static_cast<double>(bytes) / (1 << 20), bytes);
    else if (bytes >= 1024)
        std::snprintf(buf, sizeof buf, "%.1f KiB (%ju bytes)", static_cast<double>(bytes) / 1024, bytes);
    else
        std::snprintf(buf, sizeof buf, "%ju bytes", bytes);
    return buf;
}

// Text from the model file (or the command line) printed on the terminal: control characters become
// \xNN, so a name like "\x1B[2J" cannot clear the screen or move the cursor.
std::string printable(const std::string& text) { return safetensors::escapeControls(text); }

// Multi-line metadata values are indented under their key; other control characters are escaped.
void printValue(std::ostream& out, const std::string& value, std::size_t indent) {
    std::istringstream lines(value);
    std::string line;
    bool first = true;
    while (std::getline(lines, line)) {
        if (!first) out << std::string(indent, ' ');
        out << printable(line) << "\n";
        first = false;
    }
    if (first) out << "\n";
}

void runInfo(const InfoOptions& options) {
    Model model;
    try {
        model = loadModel(options.model);
    } catch (const ModelError& e) {
        throw Failure(e.what());
    }
    std::error_code ec;
    const std::uintmax_t size = fs::file_size(options.model, ec);
    const Config& c = model.config;

    if (options.json) {
        nlohmann::ordered_json j;
        j["file"] = options.model;
        j["size_bytes"] = ec ? 0 : size;
        j["name"] = model.name();
        j["parameters"] = c.parameterCount();
        j["config"] = nlohmann::ordered_json::parse(c.toJson());
        j["metadata"] = model.metadata;
        // Invalid UTF-8 (a file name in another encoding) becomes U+FFFD instead of a type_error.316
        // exception that names no file. dump() escapes C0 controls as \u00NN but writes C1 controls
        // (U+0080..U+009F, bytes C2 80..C2 9F) raw; they can only be inside strings, so escape them too.
        const std::string text = j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
        std::string safe;
        safe.reserve(text.size());
        for (std::size_t i = 0; i < text.size(); ++i) {
            const auto next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0u;
            if (static_cast<unsigned char>(text[i]) == 0xC2 && next >= 0x80 && next <= 0x9F) {
                char escaped[8];
                std::snprintf(escaped, sizeof escaped, "\\u%04x", next);
                safe += escaped;
                ++i;
            } else {
                safe += text[i];
            }
        }
        std::cout << safe << std::endl;
        return;
    }

    std::cout << "file        " << printable(options.model) << "\n"
              << "size        " << (ec ? std::string("unknown") : humanBytes(size)) << "\n"
              << "name        " << printable(model.name()) << "\n"
              << "parameters  " << c.parameterCount() << "\n"
              << "config      " << c.summary() << "\n"
              << "  d_model      " << c.dModel << "\n"
              << "  n_layers     " << c.nLayers << "\n"
              << "  d_state      " << c.dState << "\n"
              << "  d_conv       " << c.dConv << "\n"
              << "  expand       " << c.expand << "  (d_inner " << c.dInner() << ")\n"
              << "  dt_rank      " << c.dtRank << "\n"
              << "  n_cond       " << c.nCond << "\n"
              << "  sample_rate  " << c.sampleRate << " Hz\n"
              << "metadata    " << model.metadata.size() << (model.metadata.size() == 1 ? " entry" : " entries") << "\n";
    std::size_t width = 0;
    for (const auto& [key, value] : model.metadata) width = std::max(width, printable(key).size());
    for (const auto& [key, value] : model.metadata) {
        const std::string shown = printable(key);
        std::cout << "  " << shown << std::string(width - shown.size() + 2, ' ');
        printValue(std::cout, value, width + 4);
    }
    std::cout << std::flush;
}

} // namespace

void addInfoCommand(CLI::App& app) {
    auto options = std::make_shared<InfoOptions>();
    CLI::App* cmd = app.add_subcommand("info", "Show a model's configuration, size, parameter count and metadata");
    cmd->add_option("MODEL", options->model, "Model file (.safetensors)")->required()->type_name("MODEL");
    cmd->add_flag("--json", options->json, "Print the information as JSON");
    cmd->footer("Exit status: 0 for a valid model, 1 (with the loader's message) otherwise.");
    cmd->callback([options] { runInfo(*options); });
}

} // namespace mfx::apps
