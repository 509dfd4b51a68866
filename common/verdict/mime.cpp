#include "verdict/mime.hpp"

#include <algorithm>

#include "relay/headers.hpp"

namespace mailprobe::verdict {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) {
        return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    });
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

// One parameter value: a quoted string (quotes and quoted-pairs removed) or a token.
std::string param_value(std::string_view s) {
    s = trim(s);
    std::string out;
    if (!s.empty() && s.front() == '"') {
        for (std::size_t i = 1; i < s.size() && s[i] != '"'; ++i) {
            if (s[i] == '\\' && i + 1 < s.size()) ++i;
            out += s[i];
        }
        return out;
    }
    const std::size_t end = s.find_first_of(" \t;(");
    return std::string(s.substr(0, end));
}

void add_entity(std::string_view text, std::size_t depth, std::vector<Entity>& out) {
    if (out.size() >= max_mime_parts) return;
    const Entity e = split_entity(text);
    const ContentType ct = content_type(e.header);
    if (ct.type.rfind("multipart/", 0) == 0 && !ct.boundary.empty() && depth < max_mime_depth) {
        for (const std::string_view part : multipart_spans(e.body, ct.boundary))
            add_entity(part, depth + 1, out);
        return;
    }
    out.push_back(e);
}

}  // namespace

Entity split_entity(std::string_view message) {
    std::size_t pos = 0;
    while (pos < message.size()) {
        const std::size_t nl = message.find('\n', pos);
        const std::size_t end = nl == std::string_view::npos ? message.size() : nl;
        const std::string_view line = message.substr(pos, end - pos);
        if (line.empty() || line == "\r") {
            return {message.substr(0, pos),
                    nl == std::string_view::npos ? std::string_view{} : message.substr(nl + 1)};
        }
        if (nl == std::string_view::npos) break;
        pos = nl + 1;
    }
    return {message, {}};
}

ContentType content_type(std::string_view header_block) {
    ContentType ct;
    const auto values = relay::header_values(header_block, "Content-Type", 1);
    if (values.empty()) {
        ct.type = "text/plain";
        return ct;
    }
    const std::string_view v = values.front();
    const std::size_t semi = v.find(';');
    ct.type = lower(trim(v.substr(0, semi)));
    for (std::size_t at = semi; at != std::string_view::npos && at < v.size();) {
        const std::size_t next = v.find(';', at + 1);
        // A ';' inside a quoted boundary is rare; such a boundary is cut short and not found.
        const std::string_view param = v.substr(
            at + 1, next == std::string_view::npos ? std::string_view::npos : next - at - 1);
        const std::size_t eq = param.find('=');
        if (eq != std::string_view::npos) {
            const std::string name = lower(trim(param.substr(0, eq)));
            if (name == "boundary") ct.boundary = param_value(param.substr(eq + 1));
            if (name == "report-type") ct.report_type = lower(param_value(param.substr(eq + 1)));
        }
        at = next;
    }
    return ct;
}

std::vector<Entity> multipart_parts(std::string_view body, std::string_view boundary) {
    std::vector<Entity> parts;
    for (const std::string_view span : multipart_spans(body, boundary))
        parts.push_back(split_entity(span));
    return parts;
}

std::vector<std::string_view> multipart_spans(std::string_view body, std::string_view boundary) {
    std::vector<std::string_view> parts;
    const std::string delimiter = "--" + std::string(boundary);
    std::size_t part_start = std::string_view::npos;
    std::size_t pos = 0;
    while (pos <= body.size() && parts.size() < max_mime_parts) {
        const std::size_t nl = body.find('\n', pos);
        const std::size_t end = nl == std::string_view::npos ? body.size() : nl;
        const std::string_view line = trim(body.substr(pos, end - pos));
        if (line.rfind(delimiter, 0) == 0) {
            if (part_start != std::string_view::npos) {
                // The line break before the delimiter belongs to the delimiter.
                std::size_t stop = pos;
                if (stop > part_start && body[stop - 1] == '\n') --stop;
                if (stop > part_start && body[stop - 1] == '\r') --stop;
                parts.push_back(body.substr(part_start, stop - part_start));
            }
            if (line.substr(delimiter.size()).rfind("--", 0) == 0) return parts;
            part_start = nl == std::string_view::npos ? body.size() : nl + 1;
        }
        if (nl == std::string_view::npos) break;
        pos = nl + 1;
    }
    if (part_start != std::string_view::npos && part_start < body.size() &&
        parts.size() < max_mime_parts)
        parts.push_back(body.substr(part_start));
    return parts;
}

std::vector<Entity> leaf_parts(std::string_view message) {
    std::vector<Entity> out;
    add_entity(message, 0, out);
    return out;
}

}  // namespace mailprobe::verdict
