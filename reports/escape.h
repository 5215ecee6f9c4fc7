// Text escaping shared by the XML, HTML and Markdown writers.
#pragma once

#include <string>
#include <string_view>

namespace wpsim::reports {

// Makes arbitrary bytes safe for XML 1.0 (and HTML) text or attribute values:
//   - & < > " ' become entity references;
//   - in attributes, tab, newline and carriage return become character references so that
//     attribute-value normalisation keeps them;
//   - characters XML 1.0 forbids even as references (C0 controls other than tab/LF/CR, U+FFFE,
//     U+FFFF) become the visible text "\u0007";
//   - invalid UTF-8 becomes U+FFFD, one per invalid byte.
std::string XmlEscape(std::string_view text, bool attribute = false);

// Replaces invalid UTF-8 by U+FFFD and forbidden controls by "\u00XX" without adding entity
// escapes (for Markdown and for text placed into already-escaped contexts).
std::string SanitizeUtf8(std::string_view text);

// For a Markdown table cell: sanitized, '|' escaped, newlines become "<br>", HTML-significant
// characters escaped so cells cannot inject markup, and backticks kept balanced.
std::string MarkdownCell(std::string_view text);

}  // namespace wpsim::reports
