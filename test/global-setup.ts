/** Placeholder until the Temporal dev server is wired in (issue 3). */
export default function globalSetup(): void {}
