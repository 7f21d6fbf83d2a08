/** Published figures (SPEC section 5) shown beside our results for context. */
export interface Published {
  /** best test accuracy in the space */
  optimum?: number;
  /** NASWOT search, N = 1000 (Mellor et al.) */
  naswot?: number;
}

export const PUBLISHED: Record<string, Record<string, Published>> = {
  nb201: {
    cifar10: { optimum: 94.37, naswot: 92.96 },
    cifar100: { optimum: 73.51, naswot: 69.98 },
    'ImageNet16-120': { optimum: 47.31, naswot: 44.44 },
  },
};

export function published(space: string, dataset: string | undefined): Published | undefined {
  return dataset ? PUBLISHED[space]?.[dataset] : undefined;
}
