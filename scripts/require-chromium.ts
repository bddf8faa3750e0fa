import { access } from 'node:fs/promises'

/** Vitest globalSetup of the console project: fail naming the browser when it is not installed. */
export default async function requireChromium(): Promise<void> {
  await access('/usr/bin/chromium').catch(() => {
    throw new Error(
      "Chromium is not installed at /usr/bin/chromium: the console's browser tests cannot run. Install it with: apt-get install -y chromium",
    )
  })
}
