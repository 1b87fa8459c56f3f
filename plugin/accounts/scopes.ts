/**
 * Every scope Spotify's accounts service accepts, with the sentence its
 * consent page shows the user ("Visible to users" in Spotify's scope list).
 * Spotify refuses any other scope at `/authorize` (`invalid_scope`), so the
 * plugin refuses it at register time, and the emulator at `/authorize`.
 */
export const SCOPES: ReadonlyMap<string, string> = new Map([
  ['ugc-image-upload', 'Upload images to Spotify on your behalf.'],
  ['user-read-playback-state', 'Read your currently playing content and Spotify Connect devices information.'],
  ['user-modify-playback-state', 'Control playback on your Spotify clients and Spotify Connect devices.'],
  ['user-read-currently-playing', 'Read your currently playing content.'],
  ['app-remote-control', 'Communicate with the Spotify app on your device.'],
  ['streaming', 'Play content and control playback on your other devices.'],
  ['playlist-read-private', 'Access your private playlists.'],
  ['playlist-read-collaborative', 'Access your collaborative playlists.'],
  ['playlist-modify-private', 'Manage your private playlists.'],
  ['playlist-modify-public', 'Manage your public playlists.'],
  ['user-follow-modify', 'Manage who you are following.'],
  ['user-follow-read', 'Access your followers and who you are following.'],
  ['user-read-playback-position', 'Read your position in content you have played.'],
  ['user-top-read', 'Read your top artists and content.'],
  ['user-read-recently-played', 'Access your recently played items.'],
  ['user-library-modify', 'Manage your saved content.'],
  ['user-library-read', 'Access your saved content.'],
  ['user-read-email', 'Get your real email address.'],
  ['user-read-private', 'Access your subscription details.'],
  ['user-soa-link', 'Link a partner user account to a Spotify user account.'],
  ['user-soa-unlink', 'Unlink a partner user account from a Spotify account.'],
  ['soa-manage-entitlements', 'Modify entitlements for linked users.'],
  ['soa-manage-partner', 'Update partner information.'],
  ['soa-create-partner', 'Create new partners, platform partners only.']
])
