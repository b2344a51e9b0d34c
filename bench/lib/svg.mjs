// What the chart writers share: text made safe for SVG markup, and the opening of a chart with a
// title that screen readers announce.

export function escapeXml(text) {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

export function svgOpening(width, height, title) {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12" role="img">`,
    `<title>${escapeXml(title)}</title>`,
  ];
}
