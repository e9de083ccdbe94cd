// tar-stream's header codec (no types published for this file): tar.ts replaces its PAX
// functions with byte-exact ones.
declare module 'tar-stream/headers.js' {
  const headers: {
    decodePax: (buf: Buffer) => Record<string, string>;
    encodePax: (opts: { name?: string; linkname?: string; pax?: Record<string, string> }) => Buffer;
  };
  export default headers;
}
