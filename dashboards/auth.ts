export const throttledMessage = (scope: 'address' | 'identity', s: number) =>
  `too many failed authentications ${scope === 'address' ? 'from this address' : 'for this identity'}; try again in ${s} s`
